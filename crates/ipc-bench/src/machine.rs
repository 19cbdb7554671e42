//! The machine the figures come from, and where the processes run.

use std::fmt;

use ipc_core::{Error, Result};
use nix::sched::{CpuSet, sched_getaffinity, sched_getcpu, sched_setaffinity};
use nix::unistd::Pid;

/// The 1, 5 and 15 minute load averages now (`/proc/loadavg`): how busy
/// the machine was, which the figures depend on.
pub(crate) fn load_average() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// Where the two processes of a measurement run (`--cpus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cpus {
    /// Both pinned to one CPU: every hand-over is a context switch.
    Same,
    /// Ping pinned to one CPU, pong to another: every hand-over crosses
    /// cores (on two cores: CPU 0 and CPU 1).
    Different,
    /// Not pinned: the scheduler decides.
    Any,
}

impl Cpus {
    pub(crate) fn id(self) -> &'static str {
        match self {
            Cpus::Same => "same",
            Cpus::Different => "different",
            Cpus::Any => "any",
        }
    }
}

/// What the bench knows about the machine.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    /// CPUs online.
    pub(crate) cores: usize,
    /// CPUs this process may run on.
    pub(crate) allowed: Vec<usize>,
    /// `uname`: system, release, version, machine.
    pub(crate) kernel: String,
    pub(crate) cpu_model: String,
    /// The CPU reports the `hypervisor` flag: a virtual machine.
    pub(crate) virtual_machine: bool,
    pub(crate) clocksource: Option<String>,
    /// The 1, 5 and 15 minute load averages when the run started.
    pub(crate) load_average: Option<String>,
}

impl Machine {
    pub(crate) fn read() -> Result<Machine> {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
        };
        let cpu_model = field("model name")
            .or_else(|| field("Hardware"))
            .or_else(|| field("cpu model"))
            .unwrap_or_else(|| "unknown CPU".into());
        let virtual_machine =
            field("flags").is_some_and(|f| f.split(' ').any(|x| x == "hypervisor"));
        let cores = cpuinfo
            .lines()
            .filter(|line| {
                line.split(':')
                    .next()
                    .is_some_and(|k| k.trim() == "processor")
            })
            .count()
            .max(1);
        let uts = nix::sys::utsname::uname().map_err(|errno| Error::call("uname", errno))?;
        let kernel = format!(
            "{} {} {} {}",
            uts.sysname().to_string_lossy(),
            uts.release().to_string_lossy(),
            uts.version().to_string_lossy(),
            uts.machine().to_string_lossy()
        );
        let clocksource = std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .ok()
        .map(|s| s.trim().to_string());
        let load_average = load_average();
        let set = sched_getaffinity(Pid::from_raw(0))
            .map_err(|errno| Error::call("sched_getaffinity", errno))?;
        let allowed = (0..CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .collect();
        Ok(Machine {
            cores,
            allowed,
            kernel,
            cpu_model,
            virtual_machine,
            clocksource,
            load_average,
        })
    }
}

/// Which CPU each role runs on, once `--cpus` is applied to the machine.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    /// What was asked for.
    pub(crate) asked: Cpus,
    /// What was used (`different` needs two CPUs).
    pub(crate) used: Cpus,
    /// The parent: ping, receiver of one-way streams.
    pub(crate) ping: Option<usize>,
    /// The forked partner: pong, sender of one-way streams.
    pub(crate) pong: Option<usize>,
    /// The CPUs the Value workers are pinned to, in turn (none: not pinned).
    pub(crate) workers: Vec<usize>,
    pub(crate) note: Option<String>,
}

impl Placement {
    pub(crate) fn choose(asked: Cpus, machine: &Machine) -> Placement {
        let allowed = &machine.allowed;
        let first = allowed.first().copied();
        match asked {
            Cpus::Different if allowed.len() >= 2 => Placement {
                asked,
                used: asked,
                ping: Some(allowed[0]),
                pong: Some(allowed[1]),
                workers: allowed.clone(),
                note: None,
            },
            Cpus::Different | Cpus::Same => Placement {
                asked,
                used: if first.is_some() { Cpus::Same } else { Cpus::Any },
                ping: first,
                pong: first,
                workers: first.into_iter().collect(),
                note: (asked == Cpus::Different).then(|| {
                    format!(
                        "--cpus different needs two CPUs, and this process may use {}: both processes share one",
                        allowed.len()
                    )
                }),
            },
            Cpus::Any => Placement {
                asked,
                used: asked,
                ping: None,
                pong: None,
                workers: Vec::new(),
                note: None,
            },
        }
    }

    /// The CPU of the `i`th Value worker.
    pub(crate) fn worker(&self, i: usize) -> Option<usize> {
        (!self.workers.is_empty()).then(|| self.workers[i % self.workers.len()])
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.used, self.ping, self.pong) {
            (Cpus::Different, Some(ping), Some(pong)) => write!(
                f,
                "--cpus different: ping pinned to CPU {ping}, pong to CPU {pong} (two cores)"
            ),
            (Cpus::Same, Some(cpu), _) => {
                write!(
                    f,
                    "--cpus same: ping and pong both pinned to CPU {cpu} (one core)"
                )
            }
            _ => write!(f, "--cpus any: not pinned, the scheduler decides"),
        }
    }
}

/// Pins the calling process to `cpu` (nothing for `None`).
pub(crate) fn pin(cpu: Option<usize>) -> Result<()> {
    let Some(cpu) = cpu else { return Ok(()) };
    let mut set = CpuSet::new();
    set.set(cpu)
        .map_err(|errno| Error::sys("sched_setaffinity", format!("CPU {cpu}"), errno))?;
    sched_setaffinity(Pid::from_raw(0), &set)
        .map_err(|errno| Error::sys("sched_setaffinity", format!("CPU {cpu}"), errno))
}

/// Lets the calling process run on any of `cpus` (nothing for none): for
/// a process that starts others which should not all share its one CPU.
pub(crate) fn pin_set(cpus: &[usize]) -> Result<()> {
    if cpus.is_empty() {
        return Ok(());
    }
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu)
            .map_err(|errno| Error::sys("sched_setaffinity", format!("CPU {cpu}"), errno))?;
    }
    sched_setaffinity(Pid::from_raw(0), &set)
        .map_err(|errno| Error::sys("sched_setaffinity", format!("CPUs {cpus:?}"), errno))
}

/// The CPU the calling process runs on now, if the kernel says.
pub(crate) fn current_cpu() -> Option<usize> {
    sched_getcpu().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(allowed: Vec<usize>) -> Machine {
        Machine {
            cores: allowed.len(),
            allowed,
            kernel: "Linux".into(),
            cpu_model: "test".into(),
            virtual_machine: false,
            clocksource: None,
            load_average: None,
        }
    }

    #[test]
    fn different_pins_ping_and_pong_apart() {
        let p = Placement::choose(Cpus::Different, &machine(vec![0, 1]));
        assert_eq!(
            (p.ping, p.pong, p.used),
            (Some(0), Some(1), Cpus::Different)
        );
        assert_eq!(
            (0..5).map(|i| p.worker(i)).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(0), Some(1), Some(0)]
        );
        assert!(p.to_string().contains("two cores"), "{p}");
    }

    #[test]
    fn different_on_one_cpu_falls_back_to_same_and_says_so() {
        let p = Placement::choose(Cpus::Different, &machine(vec![3]));
        assert_eq!((p.ping, p.pong, p.used), (Some(3), Some(3), Cpus::Same));
        assert!(p.note.is_some());
        assert!(p.to_string().contains("one core"), "{p}");
    }

    #[test]
    fn any_pins_nothing() {
        let p = Placement::choose(Cpus::Any, &machine(vec![0, 1]));
        assert_eq!((p.ping, p.pong, p.worker(2)), (None, None, None));
    }

    #[test]
    fn this_machine_can_be_read() {
        let m = Machine::read().unwrap();
        assert!(m.cores >= 1 && !m.allowed.is_empty());
        assert!(m.kernel.starts_with("Linux"), "{}", m.kernel);
    }
}
