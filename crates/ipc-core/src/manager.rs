//! A process that keeps a shared dict and list for other processes:
//! Python's `multiprocessing.Manager`.
//!
//! [`Manager::start`] forks a server process that holds a dict (`String`
//! → `V`) and a list (of `V`), `V` any [`Message`]. Every process that
//! wants them connects with [`Manager::connect`] and gets a [`Proxy`] of
//! its own, which sends each operation to the server over a Unix socket in
//! Python's `multiprocessing.connection` wire format ([`crate::connection`]):
//! the socket lives in a private directory ([`PrivateDir`], mode 0700), and
//! the server accepts only clients that prove they know the manager's
//! random authkey. The server handles one request at a time, so each
//! operation is atomic.
//!
//! ```
//! use ipc_core::{Error, Manager, Process};
//!
//! let manager = Manager::<i64>::start().unwrap();              // manager = Manager()
//! let mut child = Process::spawn("child", || {
//!     let mut shared = manager.connect()?;                        // d = manager.dict()
//!     shared.set("answer", 42)?;                                  // d['answer'] = 42
//!     shared.append(7)                                            // l.append(7)
//! })
//! .unwrap();
//! assert!(child.join().unwrap().success());
//! let mut shared = manager.connect().unwrap();
//! assert_eq!(shared.get("answer").unwrap(), Some(42));            // d['answer']
//! assert_eq!(shared.list().unwrap(), [7]);                        // list(l)
//! manager.shutdown().unwrap();                                    // manager.shutdown()
//! assert!(matches!(shared.len(), Err(Error::Disconnected)), "the manager is gone");
//! ```
//!
//! | Python | here |
//! | --- | --- |
//! | `Manager()`, `manager.shutdown()` | [`Manager::start`], [`Manager::shutdown`] |
//! | `d = manager.dict()`, `l = manager.list()` | [`Manager::connect`]: one [`Proxy`] for both |
//! | `d[k]`, `d.get(k)`, `d[k] = v`, `d.update(pairs)` | [`Proxy::get`], [`Proxy::set`], [`Proxy::update`] |
//! | `d.items()`, `len(d)` | [`Proxy::items`] (sorted by key), [`Proxy::len`] |
//! | `l.append(v)`, `list(l)`, `len(l)` | [`Proxy::append`], [`Proxy::list`], [`Proxy::list_len`] |
//! | a proxy passed to a pool's task (`pool.map(f, [(d, x) …])`) | [`Manager::token`], a [`Token`] message, then [`Token::connect`] in the task |
//!
//! A [`Pool`](crate::Pool)'s task is a plain function, which cannot
//! capture a proxy; it takes a [`Token`] with its item instead, as a
//! Python task takes a pickled proxy, and connects with it:
//!
//! ```
//! use ipc_core::{Manager, Pool, Result};
//! use ipc_core::manager::Token;
//!
//! fn record((token, x): (Token, i64)) -> Result<i64> {
//!     token.connect::<i64>()?.set(&x.to_string(), x * x)?;      // d[x] = x * x
//!     Ok(x * x)
//! }
//!
//! let manager = Manager::<i64>::start().unwrap();
//! let pool = Pool::new(2).unwrap();
//! let tasks = [3, 4].map(|x| (manager.token(), x));
//! assert_eq!(pool.try_map(record, tasks).unwrap(), [9, 16]);
//! assert_eq!(manager.connect().unwrap().get("4").unwrap(), Some(16));
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::marker::PhantomData;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::Duration;

use crate::connection::{self, Address, Client, Connection, Listener};
use crate::error::{Error, Result};
use crate::message::{Bytes, Decoder, Message};
use crate::owner::PrivateDir;
use crate::process::Process;
use crate::ready::{self, Waitable};

/// How long a proxy waits for the server's answer, and the server for
/// the rest of a request, before giving up.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A request: (operation, key), the pairs of an update, a value.
type Request<V> = ((u8, String), Vec<(String, V)>, Option<V>);

/// An answer: (error text, empty when none), a value, the pairs of the
/// dict, (the list, a count).
type Reply<V> = (String, Option<V>, Vec<(String, V)>, (Vec<V>, u64));

/// What a proxy asks the server to do: one byte of a [`Request`], its
/// position in [`Op::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Set,
    Update,
    Items,
    Len,
    Append,
    List,
    ListLen,
}

impl Op {
    /// Every operation, in the order of its byte.
    const ALL: [Op; 8] = [
        Op::Get,
        Op::Set,
        Op::Update,
        Op::Items,
        Op::Len,
        Op::Append,
        Op::List,
        Op::ListLen,
    ];

    /// The operation of a request's byte; `None` for a byte no proxy
    /// sends.
    fn of(byte: u8) -> Option<Op> {
        Op::ALL.get(usize::from(byte)).copied()
    }
}

// `Op::ALL[k]` is the operation whose byte is `k`, as `Op::of` reads it:
// checked when the crate compiles.
const _: () = {
    let mut k = 0;
    while k < Op::ALL.len() {
        assert!(Op::ALL[k] as usize == k);
        k += 1;
    }
};

/// A manager process serving a dict and a list of `V` (see the [module
/// documentation](self)). Dropped, it shuts its server down.
pub struct Manager<V> {
    server: Process,
    address: Address,
    authkey: Vec<u8>,
    /// Kept open so that its socket file stays until the server ends.
    _listener: Listener,
    _dir: PrivateDir,
    _type: PhantomData<fn(V) -> V>,
}

impl<V> fmt::Debug for Manager<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("server", &self.server.pid())
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl<V: Message + Clone> Manager<V> {
    /// Forks the server, listening on `manager.sock` in a new private
    /// directory with a random 32-byte authkey.
    ///
    /// # Errors
    /// As [`PrivateDir::create`], [`Listener::bind`] and
    /// [`Process::spawn`]; [`Error::Sys`] naming `read` of `/dev/urandom`.
    pub fn start() -> Result<Manager<V>> {
        let dir = PrivateDir::create("manager")?;
        let mut authkey = vec![0; 32];
        connection::random_bytes(&mut authkey)?;
        let mut listener = Listener::bind(dir.path().join("manager.sock"))?.authkey(&authkey);
        let address = listener.address().clone();
        let server = Process::spawn("manager", || serve::<V>(&mut listener))?;
        Ok(Manager {
            server,
            address,
            authkey,
            _listener: listener,
            _dir: dir,
            _type: PhantomData,
        })
    }

    /// A proxy of the dict and the list for the calling process, on a
    /// connection of its own (connect in each process; do not share one
    /// across a fork).
    ///
    /// # Errors
    /// [`Error::Disconnected`] when the server has ended (its listening
    /// socket is still open here, so a connection would only wait out its
    /// handshake); as [`Client::connect`]: [`Error::Authentication`].
    pub fn connect(&self) -> Result<Proxy<V>> {
        if !ready::wait(&[&self.server], Some(Duration::ZERO))?.is_empty() {
            return Err(Error::Disconnected);
        }
        self.token().connect()
    }

    /// What a process needs to connect to this manager, as a message a
    /// pool's task can take with its item ([`Token::connect`]).
    pub fn token(&self) -> Token {
        let path = match &self.address {
            Address::Unix(path) => path.clone(),
            // `start` binds a Unix socket file, nothing else.
            other => PathBuf::from(other.to_string()),
        };
        Token {
            path,
            authkey: self.authkey.clone(),
        }
    }

    /// The server's address (a Unix socket's path).
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The server process's id.
    pub fn pid(&self) -> nix::unistd::Pid {
        self.server.pid()
    }

    /// Stops the server (SIGTERM, SIGKILL a second later) and reaps it
    /// (Python's `manager.shutdown()`); proxies then get
    /// [`Error::Disconnected`].
    ///
    /// # Errors
    /// [`Error::Sys`] naming `kill` or `waitpid`.
    pub fn shutdown(mut self) -> Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> Result<()> {
        if self.server.try_join()?.is_some() {
            return Ok(());
        }
        self.server.terminate()?;
        if self.server.join_timeout(Duration::from_secs(1))?.is_none() {
            self.server.kill()?;
            self.server.join()?;
        }
        Ok(())
    }
}

impl<V> Drop for Manager<V> {
    fn drop(&mut self) {
        // The server's `Process` stops it when dropped (in this process
        // only): first, before the listener's file and the directory go.
        let _ = self.server.terminate();
    }
}

/// How to reach a manager, as a [`Message`]: its socket's path and its
/// authkey (Python pickles a proxy with its manager's address). Made by
/// [`Manager::token`]; any process of the run that receives it (a pool's
/// worker, say) connects with [`Token::connect`]. Its description in a
/// `--trace` timeline and its `Debug` show the path, never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    path: PathBuf,
    authkey: Vec<u8>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// A proxy of the manager's dict and list for the calling process, on
    /// a connection of its own (as [`Manager::connect`]).
    ///
    /// # Errors
    /// As [`Manager::connect`].
    pub fn connect<V: Message + Clone>(&self) -> Result<Proxy<V>> {
        let mut conn = Client::new(Address::Unix(self.path.clone()))
            .authkey(&self.authkey)
            .connect()?;
        conn.set_timeout(Some(TIMEOUT));
        Ok(Proxy {
            conn,
            _type: PhantomData,
        })
    }
}

impl Message for Token {
    const MIN_SIZE: usize = 2 * Bytes::MIN_SIZE;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        Bytes(self.path.as_os_str().as_bytes().to_vec()).encode(out)?;
        Bytes(self.authkey.clone()).encode(out)
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let path = PathBuf::from(OsString::from_vec(Bytes::decode(input)?.0));
        let authkey = Bytes::decode(input)?.0;
        Ok(Token { path, authkey })
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "<manager at {}>", self.path.display())
    }
}

/// One process's handle on a manager's dict and list.
pub struct Proxy<V> {
    conn: Connection,
    _type: PhantomData<fn(V) -> V>,
}

impl<V> fmt::Debug for Proxy<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy").field("conn", &self.conn).finish()
    }
}

impl<V: Message + Clone> Proxy<V> {
    fn call(
        &mut self,
        op: Op,
        key: &str,
        pairs: Vec<(String, V)>,
        value: Option<V>,
    ) -> Result<Reply<V>> {
        let request: Request<V> = ((op as u8, key.to_owned()), pairs, value);
        self.conn.send(&request)?;
        let reply: Reply<V> = self.conn.recv()?;
        if !reply.0.is_empty() {
            return Err(Error::Message(format!("manager: {}", reply.0)));
        }
        Ok(reply)
    }

    /// The value of `key`, if any (Python's `d.get(key)`).
    ///
    /// # Errors
    /// [`Error::Disconnected`] when the manager is gone; [`Error::Timeout`]
    /// after [`TIMEOUT`] without an answer; [`Error::Message`] for an
    /// answer that does not decode.
    pub fn get(&mut self, key: &str) -> Result<Option<V>> {
        Ok(self.call(Op::Get, key, Vec::new(), None)?.1)
    }

    /// Sets `key` to `value` (Python's `d[key] = value`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn set(&mut self, key: &str, value: V) -> Result<()> {
        self.call(Op::Set, key, Vec::new(), Some(value)).map(drop)
    }

    /// Sets every pair, in one step no other process sees half done
    /// (Python's `d.update(pairs)`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn update(&mut self, pairs: impl IntoIterator<Item = (String, V)>) -> Result<()> {
        self.call(Op::Update, "", pairs.into_iter().collect(), None)
            .map(drop)
    }

    /// The dict's pairs, sorted by key (Python's `d.items()`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn items(&mut self) -> Result<Vec<(String, V)>> {
        Ok(self.call(Op::Items, "", Vec::new(), None)?.2)
    }

    /// How many keys the dict has (Python's `len(d)`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn len(&mut self) -> Result<usize> {
        let count = self.call(Op::Len, "", Vec::new(), None)?.3.1;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// True when the dict has no key.
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn is_empty(&mut self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Appends `value` to the list (Python's `l.append(value)`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn append(&mut self, value: V) -> Result<()> {
        self.call(Op::Append, "", Vec::new(), Some(value)).map(drop)
    }

    /// The list's values (Python's `list(l)`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn list(&mut self) -> Result<Vec<V>> {
        Ok(self.call(Op::List, "", Vec::new(), None)?.3.0)
    }

    /// How many values the list has (Python's `len(l)`).
    ///
    /// # Errors
    /// As [`Proxy::get`].
    pub fn list_len(&mut self) -> Result<usize> {
        let count = self.call(Op::ListLen, "", Vec::new(), None)?.3.1;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }
}

/// The server: waits for a new client or a request, answers it, forever
/// (until SIGTERM, which ends it with success). A client that sends what does not decode, or fails the
/// handshake, is dropped; the others are served on.
fn serve<V: Message + Clone>(listener: &mut Listener) -> Result<()> {
    let mut dict: BTreeMap<String, V> = BTreeMap::new();
    let mut list: Vec<V> = Vec::new();
    let mut clients: Vec<Connection> = Vec::new();
    loop {
        let ready = {
            let mut objects: Vec<&dyn Waitable> = vec![&*listener];
            objects.extend(clients.iter().map(|c| c as &dyn Waitable));
            match ready::wait(&objects, None) {
                // SIGTERM from `shutdown` (or Ctrl-C, in a program that
                // catches it) is how the server ends: quietly.
                Err(Error::Interrupted) => return Ok(()),
                other => other?,
            }
        };
        // The clients from the last: removing one leaves the earlier
        // indices as they were.
        for &index in ready.iter().rev().filter(|&&i| i > 0) {
            let client = &mut clients[index - 1];
            let answered = client
                .recv::<Request<V>>()
                .map(|request| answer(&mut dict, &mut list, request))
                .and_then(|reply| client.send(&reply));
            if answered.is_err() {
                clients.remove(index - 1);
            }
        }
        if ready.first() == Some(&0) {
            match listener.accept() {
                Ok(mut client) => {
                    client.set_timeout(Some(TIMEOUT));
                    clients.push(client);
                }
                Err(Error::Authentication(why)) => log::warn!("manager: a client refused: {why}"),
                Err(Error::Disconnected | Error::Timeout | Error::Message(_)) => {}
                Err(error) => return Err(error),
            }
        }
    }
}

/// What a request does to the dict and the list, and the answer.
fn answer<V: Message + Clone>(
    dict: &mut BTreeMap<String, V>,
    list: &mut Vec<V>,
    ((op, key), pairs, value): Request<V>,
) -> Reply<V> {
    let mut reply: Reply<V> = (String::new(), None, Vec::new(), (Vec::new(), 0));
    match (Op::of(op), value) {
        (Some(Op::Get), _) => reply.1 = dict.get(&key).cloned(),
        (Some(Op::Set), Some(value)) => {
            dict.insert(key, value);
        }
        (Some(Op::Update), _) => dict.extend(pairs),
        (Some(Op::Items), _) => {
            reply.2 = dict.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        (Some(Op::Len), _) => reply.3.1 = dict.len() as u64,
        (Some(Op::Append), Some(value)) => list.push(value),
        (Some(Op::List), _) => reply.3.0 = list.clone(),
        (Some(Op::ListLen), _) => reply.3.1 = list.len() as u64,
        (_, _) => reply.0 = format!("operation {op} is unknown or lacks its value"),
    }
    reply
}
