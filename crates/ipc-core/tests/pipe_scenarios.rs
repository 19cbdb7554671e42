//! Pipes and connections between real processes.
//!
//! A `harness = false` target: the scenarios run one after another on the
//! main thread, so they may fork (`Process::spawn`). Each one panics when a
//! promise of `ipc_core::pipe` breaks.

use std::time::{Duration, Instant};

use ipc_core::message::Bytes;
use ipc_core::pipe::{self, Builder};
use ipc_core::{Error, Process, signal};
use nix::sys::signal::{SigHandler, Signal};

/// Frame lengths from 1 byte to 1 MiB: the small ones, the ones around
/// `PIPE_BUF` (4096) and the read-ahead sizes, and every power of two with
/// its neighbours.
fn lengths() -> Vec<usize> {
    let mut lengths: Vec<usize> = (1..=8).chain(4090..=4100).collect();
    for k in 4..20 {
        lengths.extend([(1 << k) - 1, 1 << k, (1 << k) + 1]);
    }
    lengths.push(1 << 20);
    lengths
}

/// Bytes that differ from frame to frame and along a frame, cheap to
/// regenerate on the receiving side.
fn content(len: usize, seed: u64, out: &mut Vec<u8>) {
    out.clear();
    let base = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    out.extend((0..len as u64).map(|i| (base.wrapping_add(i.wrapping_mul(131)) ^ (i >> 8)) as u8));
}

fn expect_success(p: &mut Process) {
    let status = p.join().unwrap();
    assert!(status.success(), "{}: {status}", p.name());
}

fn simplex_frames_from_1_byte_to_1_mib_arrive_whole() {
    let lengths = lengths();
    let (mut rx, mut tx) = pipe::simplex::<Bytes>().unwrap();
    let mut child = Process::spawn("writer", || {
        rx.close();
        let mut frame = Vec::new();
        for (i, &len) in lengths.iter().enumerate() {
            content(len, i as u64, &mut frame);
            // Raw and typed frames, one after the other.
            if i % 2 == 0 {
                tx.send_bytes(&frame)?;
            } else {
                tx.send(&Bytes(frame.clone()))?;
            }
        }
        Ok::<(), Error>(())
    })
    .unwrap();
    tx.close();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for (i, &len) in lengths.iter().enumerate() {
        content(len, i as u64, &mut want);
        if i % 2 == 0 {
            assert_eq!(rx.recv_bytes_into(&mut got).unwrap(), len);
        } else {
            got = rx.recv().unwrap().0;
        }
        assert!(got == want, "frame {i} of {len} bytes differs");
    }
    assert!(matches!(rx.recv(), Err(Error::Disconnected)));
    expect_success(&mut child);
}

fn duplex_frames_from_1_byte_to_1_mib_come_back_whole() {
    let lengths = lengths();
    let (mut here, mut there) = pipe::duplex::<Bytes>().unwrap();
    // The child echoes every frame until the parent closes its end.
    let mut child = Process::spawn("echo", || {
        here.close();
        let mut frame = Vec::new();
        loop {
            match there.recv_bytes_into(&mut frame) {
                Ok(_) => there.send_bytes(&frame)?,
                Err(Error::Disconnected) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    })
    .unwrap();
    there.close();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for (i, &len) in lengths.iter().enumerate() {
        content(len, i as u64, &mut want);
        if i % 2 == 0 {
            here.send_bytes(&want).unwrap();
            here.recv_bytes_into(&mut got).unwrap();
        } else {
            here.send(&Bytes(want.clone())).unwrap();
            got = here.recv().unwrap().0;
        }
        assert!(got == want, "frame {i} of {len} bytes differs");
    }
    here.close();
    expect_success(&mut child);
}

const WRITERS: u8 = 4;

/// The length of writer `w`'s frame `seq`: mostly small, every eighth one
/// above `PIPE_BUF`, so that a pipe splits it; on a socket, every 32nd one
/// above half the socket's send buffer (212 992 bytes by default), which a
/// socket splits.
fn frame_len(w: u8, seq: u32, socket: bool) -> usize {
    let h = (u64::from(seq) * 2_654_435_761 + u64::from(w) * 40_503) % 1_000_003;
    if socket && seq % 32 == 7 {
        110_000 + (h % 150_000) as usize
    } else if seq % 8 == 3 {
        4097 + (h % 12_000) as usize
    } else {
        (h % 600) as usize
    }
}

/// A frame: the writer, its sequence number, then content tied to both.
fn make_frame(w: u8, seq: u32, socket: bool, out: &mut Vec<u8>) {
    content(
        frame_len(w, seq, socket),
        u64::from(w) << 32 | u64::from(seq),
        out,
    );
    out.splice(0..0, [w].into_iter().chain(seq.to_le_bytes()));
}

fn writers_never_interleave(duplex: bool, frames: u32) {
    // Either a pipe, or one end of a socketpair that every writer shares.
    let (mut rx, mut tx, mut a, mut b);
    if duplex {
        (a, b) = pipe::duplex::<Bytes>()
            .map(|(a, b)| (Some(a), Some(b)))
            .unwrap();
        (rx, tx) = (None, None);
    } else {
        (rx, tx) = pipe::simplex::<Bytes>()
            .map(|(r, t)| (Some(r), Some(t)))
            .unwrap();
        (a, b) = (None, None);
    }
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        writers.push(
            Process::spawn(format!("writer{w}"), || {
                rx.take();
                b.take();
                let mut frame = Vec::new();
                for seq in 0..frames {
                    make_frame(w, seq, duplex, &mut frame);
                    match (&mut tx, &mut a) {
                        (Some(tx), _) => tx.send_bytes(&frame)?,
                        (_, Some(a)) => a.send_bytes(&frame)?,
                        _ => unreachable!(),
                    }
                }
                Ok::<(), Error>(())
            })
            .unwrap(),
        );
    }
    tx.take();
    a.take();
    let mut next = [0_u32; WRITERS as usize];
    let (mut got, mut want) = (Vec::new(), Vec::new());
    loop {
        let received = match (&mut rx, &mut b) {
            (Some(rx), _) => rx.recv_bytes_into(&mut got),
            (_, Some(b)) => b.recv_bytes_into(&mut got),
            _ => unreachable!(),
        };
        match received {
            Ok(_) => {}
            Err(Error::Disconnected) => break,
            Err(error) => panic!("after {next:?} frames: {error}"),
        }
        assert!(got.len() >= 5, "a frame of {} bytes", got.len());
        let w = got[0];
        assert!(w < WRITERS, "writer {w}");
        let seq = u32::from_le_bytes(got[1..5].try_into().unwrap());
        assert_eq!(seq, next[w as usize], "writer {w}: out of sequence");
        make_frame(w, seq, duplex, &mut want);
        assert!(got == want, "writer {w}, frame {seq}: mixed with another");
        next[w as usize] += 1;
    }
    assert_eq!(next, [frames; WRITERS as usize], "frames per writer");
    for writer in &mut writers {
        expect_success(writer);
    }
}

fn four_writers_never_interleave_on_one_pipe() {
    writers_never_interleave(false, 10_000);
}

fn four_writers_never_interleave_on_one_socket() {
    writers_never_interleave(true, 2_000);
}

/// Exit code of a child that saw what it should.
const SAW_IT: i32 = 7;

fn writing_after_the_reader_is_gone_is_disconnected() {
    let (rx, mut tx) = pipe::simplex::<String>().unwrap();
    drop(rx);
    let mut child = Process::spawn("writer", || {
        let small = tx.send(&"First".into());
        let large = tx.send_bytes(&vec![1; 1 << 20]);
        match (small, large) {
            (Err(Error::Disconnected), Err(Error::Disconnected)) => SAW_IT,
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    let status = child.join().unwrap();
    assert_eq!(status.code(), SAW_IT, "not killed by SIGPIPE: {status}");

    // A socket is written with MSG_NOSIGNAL: even with SIGPIPE's default
    // action (death) the writer gets an error.
    let (mut a, b) = pipe::duplex::<String>().unwrap();
    drop(b);
    let mut child = Process::spawn("socket-writer", || {
        // SAFETY: restoring the default action of SIGPIPE runs no code of
        // ours in a signal handler.
        #[allow(unsafe_code)]
        unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) }.unwrap();
        match a.send(&"First".into()) {
            Err(Error::Disconnected) => SAW_IT,
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    let status = child.join().unwrap();
    assert_eq!(status.code(), SAW_IT, "not killed by SIGPIPE: {status}");
}

fn a_reader_leaving_in_the_middle_of_a_large_frame_disconnects_the_writer() {
    let (mut rx, mut tx) = pipe::simplex::<Bytes>().unwrap();
    let mut child = Process::spawn("writer", || {
        rx.close();
        // 1 MiB into a 64 KiB pipe: the write blocks until the reader goes.
        match tx.send_bytes(&vec![1; 1 << 20]) {
            Err(Error::Disconnected) => SAW_IT,
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    tx.close();
    assert!(rx.poll(Duration::from_secs(30)).unwrap(), "the frame began");
    rx.close();
    let status = child.join().unwrap();
    assert_eq!(status.code(), SAW_IT, "{status}");
}

fn recv_after_every_writer_is_gone_is_the_end() {
    let (mut rx, mut tx) = pipe::simplex::<(u8, u8)>().unwrap();
    let mut writers: Vec<Process> = (0..2_u8)
        .map(|w| {
            Process::spawn(format!("writer{w}"), || {
                rx.close();
                (0..3).try_for_each(|i| tx.send(&(w, i)))
            })
            .unwrap()
        })
        .collect();
    tx.close();
    let mut got: Vec<(u8, u8)> = rx.iter().collect::<Result<_, _>>().unwrap();
    got.sort_unstable();
    assert_eq!(got, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    assert!(rx.poll(Duration::ZERO).unwrap(), "the end is readable");
    assert!(matches!(rx.recv(), Err(Error::Disconnected)));
    assert!(
        matches!(rx.recv(), Err(Error::Disconnected)),
        "and stays so"
    );
    for writer in &mut writers {
        expect_success(writer);
    }
}

fn an_oversized_message_is_refused_and_nothing_is_sent() {
    let (mut rx, mut tx) = Builder::new().limit(1000).simplex::<Bytes>().unwrap();
    let mut child = Process::spawn("writer", || {
        rx.close();
        match tx.send(&Bytes(vec![0; 997])) {
            Err(Error::MessageTooLarge {
                size: 1001,
                limit: 1000,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(tx.send_bytes(&[0; 1001]).is_err());
        tx.send(&Bytes(b"after".to_vec()))?;
        // Above what the reader accepts, within what this end sends.
        tx.send_bytes(&[0; 200])?;
        Ok::<(), Error>(())
    })
    .unwrap();
    tx.close();
    assert_eq!(rx.recv().unwrap(), Bytes(b"after".to_vec()), "first frame");
    rx.set_limit(100);
    let err = rx.recv_bytes().unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 200,
                limit: 100
            }
        ),
        "{err}"
    );
    expect_success(&mut child);
}

fn poll_returns_false_after_the_bound_when_nothing_arrives() {
    let (mut rx, mut tx) = pipe::simplex::<u8>().unwrap();
    let (mut done_rx, mut done_tx) = pipe::simplex::<u8>().unwrap();
    // The writer is alive and silent until told to go.
    let mut child = Process::spawn("silent", || {
        rx.close();
        done_tx.close();
        done_rx.recv()?;
        tx.send(&1)
    })
    .unwrap();
    tx.close();
    done_rx.close();
    let bound = Duration::from_millis(200);
    let start = Instant::now();
    assert!(!rx.poll(bound).unwrap());
    let waited = start.elapsed();
    assert!(waited >= bound, "returned after {waited:?}");
    done_tx.send(&0).unwrap();
    assert!(rx.poll(Duration::from_secs(30)).unwrap());
    assert_eq!(rx.recv().unwrap(), 1);
    expect_success(&mut child);
}

/// Sends SIGINT to `child` every 50 ms until it ends; its exit status.
fn interrupt_until_it_ends(child: &mut Process) -> i32 {
    loop {
        child.signal(Signal::SIGINT).unwrap();
        if let Some(status) = child.join_timeout(Duration::from_millis(50)).unwrap() {
            return status.code();
        }
    }
}

fn ctrl_c_ends_a_blocked_recv_and_a_blocked_send() {
    let (mut rx, mut tx) = pipe::simplex::<Bytes>().unwrap();
    let (mut ready_rx, mut ready_tx) = pipe::simplex::<u8>().unwrap();
    let mut reader = Process::spawn("reader", || {
        ready_rx.close();
        signal::install()?;
        ready_tx.send(&1)?;
        // The parent keeps the writing end open: nothing comes, no end.
        match rx.recv() {
            Err(Error::Interrupted) => Ok::<i32, Error>(SAW_IT),
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    ready_tx.close();
    ready_rx.recv().unwrap();
    assert_eq!(interrupt_until_it_ends(&mut reader), SAW_IT);

    let (mut ready_rx, mut ready_tx) = pipe::simplex::<u8>().unwrap();
    let mut writer = Process::spawn("writer", || {
        ready_rx.close();
        signal::install()?;
        ready_tx.send(&1)?;
        // Nobody reads: 1 MiB into a 64 KiB pipe blocks.
        match tx.send_bytes(&vec![1; 1 << 20]) {
            Err(Error::Interrupted) => {}
            other => panic!("{other:?}"),
        }
        // Part of the frame is in the pipe: this end refuses to go on.
        match tx.send_bytes(b"more") {
            Err(Error::Message(why)) if why.contains("middle of a frame") => {
                Ok::<i32, Error>(SAW_IT)
            }
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    ready_tx.close();
    ready_rx.recv().unwrap();
    // Once the pipe holds data, the writer is inside its frame.
    assert!(rx.poll(Duration::from_secs(30)).unwrap());
    assert_eq!(interrupt_until_it_ends(&mut writer), SAW_IT);
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        simplex_frames_from_1_byte_to_1_mib_arrive_whole,
        duplex_frames_from_1_byte_to_1_mib_come_back_whole,
        four_writers_never_interleave_on_one_pipe,
        four_writers_never_interleave_on_one_socket,
        writing_after_the_reader_is_gone_is_disconnected,
        a_reader_leaving_in_the_middle_of_a_large_frame_disconnects_the_writer,
        recv_after_every_writer_is_gone_is_the_end,
        an_oversized_message_is_refused_and_nothing_is_sent,
        poll_returns_false_after_the_bound_when_nothing_arrives,
        ctrl_c_ends_a_blocked_recv_and_a_blocked_send,
    ]);
}
