//! The owner of one named object: the part of a handle (`SharedMemory`,
//! `Fifo`, `MessageQueue`, a private directory) that makes the object
//! through its kind's [`Object`], writes it into the run's lease, undoes
//! it when it was half made, and decides who removes it.

use nix::errno::Errno;
use nix::sys::stat::FileStat;
use nix::unistd::{Pid, getpid};

use super::lease::{Record, audit, now_ns};
use super::object::{Identity, Kind, Named, Object, ObjectName, check_trusted};
use super::run::{Run, note, released};
use super::sweep::sweep;
use crate::error::{Error, Result};

/// Whether [`Owner::create_or_open`] made the object or found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This process made it, and removes it.
    Created,
    /// It was there already: somebody else's to remove.
    Opened,
}

/// The owner of one named object: the part of a handle that decides who
/// removes it.
///
/// Made by [`Owner::create`] (this process made the object and removes it
/// when the `Owner` is dropped, in this process only, never in a forked
/// child holding a copy) or [`Owner::open`] (somebody else's: never
/// removed here).
#[derive(Debug)]
pub struct Owner {
    kind: Kind,
    name: ObjectName,
    identity: Identity,
    /// The process that removes the object, if this handle created it and
    /// has not kept or removed it yet.
    remover: Option<Pid>,
}

impl Owner {
    /// Creates the object `name` of the kind `K` ([`Object::create`], then
    /// [`Object::settle`]), and hands it to `finish`, the mechanism's own
    /// steps (size a segment and map it); returns what `finish` returns.
    ///
    /// The object is written into the run's lease before it is made (so
    /// that a SIGKILL in the middle leaves nothing behind either), then
    /// again with its identity once it is, or struck out if it could not
    /// be made. When anything fails once the name exists (settling it, or
    /// `finish`), the object is removed again ([`Object::remove`]): after
    /// an error nothing is left. The first creation of a process starts
    /// its run (lease, tracker), after sweeping the dead runs of the user.
    ///
    /// # Errors
    /// The error of [`Named::object_name`], [`Object::create`] (`File
    /// exists` for a taken name), [`Object::settle`] or `finish`.
    pub fn create<K: Object, T>(
        name: &K::Name,
        spec: &K::Spec,
        finish: impl FnOnce(K::Handle, &FileStat) -> Result<T>,
    ) -> Result<(T, Owner)> {
        let object = name.object_name()?;
        let kind = K::KIND;
        debug_assert!(!object.lease_text().contains('\n'));
        if !Run::exists() {
            // The next program removes a crashed run's objects: this one.
            let _ = sweep();
        }
        // Counts the object as this process's from now on, so that the run
        // cannot end between here and its creation.
        Run::join();
        let text = object.lease_text().into_owned();
        note(&Record::Intent {
            kind,
            name: text.clone(),
            at_ns: now_ns(),
        });
        let made = K::create(name, spec).and_then(|handle| {
            // The name exists from here on: a failure removes it again.
            let finished = K::settle(name, &handle)
                .and_then(|st| finish(handle, &st).map(|value| (value, st)));
            if finished.is_err() {
                let _ = K::remove(name);
            }
            finished
        });
        match made {
            Ok((value, st)) => {
                let identity = Identity::of(&st);
                note(&Record::Made {
                    kind,
                    identity,
                    name: text,
                });
                audit(&format!(
                    "created {} {} {} {object}",
                    kind.tag(),
                    identity.dev,
                    identity.ino,
                ));
                Ok((
                    value,
                    Owner {
                        kind,
                        name: object,
                        identity,
                        remover: Some(getpid()),
                    },
                ))
            }
            Err(error) => {
                note(&Record::Released { kind, name: text });
                released();
                Err(error)
            }
        }
    }

    /// Opens the existing object `name` of the kind `K`
    /// ([`Object::open`]) after [`check_trusted`]; returns its handle, its
    /// `fstat(2)` and an owner that never removes it.
    ///
    /// # Errors
    /// The error of [`Object::open`] (`No such file or directory`, see
    /// [`Error::is_not_found`]); [`Error::Untrusted`] for an object of
    /// another user or a mode that lets others in.
    pub fn open<K: Object>(name: &K::Name) -> Result<(K::Handle, FileStat, Owner)> {
        let (handle, st) = K::open(name)?;
        let object = name.object_name()?;
        check_trusted(K::KIND, &object, &st)?;
        let owner = Owner {
            kind: K::KIND,
            name: object,
            identity: Identity::of(&st),
            remover: None,
        };
        Ok((handle, st, owner))
    }

    /// [`Owner::create`], or, when the name is taken (`EEXIST`),
    /// [`Owner::open`] of what is there; `finish` is told which.
    ///
    /// # Errors
    /// As [`Owner::create`] and [`Owner::open`].
    pub fn create_or_open<K: Object, T>(
        name: &K::Name,
        spec: &K::Spec,
        finish: impl FnOnce(K::Handle, &FileStat, Origin) -> Result<T>,
    ) -> Result<(T, Owner)> {
        let mut finish = Some(finish);
        let created = Owner::create::<K, T>(name, spec, |handle, st| {
            let finish = finish.take().expect("called once");
            finish(handle, st, Origin::Created)
        });
        match created {
            Err(error) if error.errno() == Some(Errno::EEXIST) => {
                let (handle, st, owner) = Owner::open::<K>(name)?;
                let finish = finish.take().expect("not called: nothing was created");
                Ok((finish(handle, &st, Origin::Opened)?, owner))
            }
            other => other,
        }
    }

    /// The kind of object.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        &self.name
    }

    /// True if this process will remove the object when the owner is
    /// dropped.
    pub fn is_owner(&self) -> bool {
        self.remover == Some(getpid())
    }

    /// True while the name still stands for this object; false once it was
    /// removed (by its creator at its end, by the tracker after a crash, by
    /// `clean.sh`) or replaced by another object of the same name. The
    /// object itself stays usable by whoever has it open.
    pub fn is_current(&self) -> bool {
        self.kind
            .stat(&self.name)
            .is_some_and(|st| Identity::of(&st) == self.identity)
    }

    /// Leaves the object in place when the owner is dropped, on purpose
    /// (a message queue whose messages wait for a later receiver). It is
    /// no longer the run's to remove, not even after a crash.
    pub fn keep(&mut self) {
        if self.is_owner() {
            self.release("kept");
        }
        self.remover = None;
    }

    /// Removes the object now, whoever created it, if it is still the
    /// object this owner stands for. Processes that have it open keep
    /// using it; new ones cannot find it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming the call (`shm_unlink`, `unlink`,
    /// `mq_unlink`): `No such file or directory` when it is gone already.
    pub fn remove(&mut self) -> Result<()> {
        let was_owner = self.is_owner();
        self.remover = None;
        let outcome = remove_if_same(self.kind, &self.name, self.identity);
        if was_owner {
            self.release("removed");
        }
        match outcome {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::sys(
                self.kind.call(),
                self.name.to_string(),
                Errno::ENOENT,
            )),
            Err(errno) => Err(Error::sys(self.kind.call(), self.name.to_string(), errno)),
        }
    }

    fn release(&self, how: &str) {
        note(&Record::Released {
            kind: self.kind,
            name: self.name.lease_text().into_owned(),
        });
        audit(&format!("{how} {} {}", self.kind.tag(), self.name));
        released();
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if self.is_owner() {
            let _ = remove_if_same(self.kind, &self.name, self.identity);
            self.release("removed");
        }
    }
}

/// Removes the object `name` of `kind` if it is still the one with
/// `identity`; `Ok(false)` if there is no such object any more.
fn remove_if_same(
    kind: Kind,
    name: &ObjectName,
    identity: Identity,
) -> std::result::Result<bool, Errno> {
    match kind.stat(name) {
        Some(st) if Identity::of(&st) == identity => kind.remove(name).map(|()| true),
        Some(_) | None => Ok(false),
    }
}
