//! `Send`/`Sync`/`Unpin` of every public type and future: the runtime moves tasks (and so
//! these futures) between worker threads.

use std::future::Future;
use std::time::Duration;

use ringloop_io::fs::File;
use ringloop_io::net::{
    tcp, unix, ReuniteError, TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream,
};
use ringloop_io::time::{Elapsed, Interval, Sleep, Timeout};
use ringloop_io::{Driver, DriverConfig, EnterGuard, Unparker};

fn send<T: Send>(_: &T) {}
fn sync<T: Sync>(_: &T) {}
fn unpin<T: Unpin>(_: &T) {}
fn all<T: Send + Sync + Unpin>(t: &T) {
    send(t);
    sync(t);
    unpin(t);
}
fn send_unpin_future<F: Future + Send + Unpin>(_: &F) {}
fn send_future<F: Future + Send>(_: &F) {}

#[allow(dead_code)]
fn not_send_driver() {
    // `Driver` and `EnterGuard` are !Send: a ring belongs to its thread. (Checked by the
    // absence of `send` calls on them: adding one fails to compile.)
    fn _types(_: Option<Driver>, _: Option<EnterGuard<'_>>) {}
}

#[test]
fn public_types_are_send_sync_unpin() {
    all(&DriverConfig::new());
    let driver = Driver::new(&DriverConfig::new()).unwrap();
    let unparker: Unparker = driver.unparker();
    all(&unparker);
    let file = File::from(std::fs::File::open("/dev/null").unwrap());
    all(&file);
    let sleep: Sleep = ringloop_io::time::sleep(Duration::from_secs(1));
    all(&sleep);
    let interval: Interval = ringloop_io::time::interval(Duration::from_secs(1));
    all(&interval);
    let timeout: Timeout<Sleep> = ringloop_io::time::timeout(
        Duration::from_secs(1),
        ringloop_io::time::sleep(Duration::ZERO),
    );
    all(&timeout);
    fn elapsed_is_error<E: std::error::Error + Send + Sync + 'static>() {}
    elapsed_is_error::<Elapsed>();
}

#[test]
fn op_futures_are_send_and_unpin() {
    let file = File::from(std::fs::File::open("/dev/null").unwrap());
    send_unpin_future(&ringloop_io::nop());
    send_unpin_future(&file.read(Vec::with_capacity(1)));
    send_unpin_future(&file.read_at(vec![0u8; 4].into_boxed_slice(), 0));
    send_unpin_future(&file.write(b"x".to_vec()));
    send_unpin_future(&file.write_at(&b"static"[..], 0));
    send_unpin_future(&File::open("/dev/null"));
}

#[test]
fn sockets_are_send_sync_unpin_and_their_futures_send() {
    let driver = Driver::new(&DriverConfig::new()).unwrap();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    all(&listener);
    let addr = listener.local_addr().unwrap();
    let stream = TcpStream::from_std(std::net::TcpStream::connect(addr).unwrap()).unwrap();
    all(&stream);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    all(&udp);
    let (unix, _peer) = UnixStream::pair().unwrap();
    all(&unix);
    let path = std::env::temp_dir().join(format!("ringloop-sendsync-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let unix_listener = UnixListener::bind(&path).unwrap();
    all(&unix_listener);

    send_unpin_future(&listener.accept());
    send_future(&TcpStream::connect(addr));
    send_unpin_future(&stream.read(Vec::with_capacity(1)));
    send_unpin_future(&stream.write(b"x".to_vec()));
    send_future(&stream.write_all(b"x".to_vec()));
    send_unpin_future(&stream.shutdown(std::net::Shutdown::Both));
    send_unpin_future(&udp.send_to(b"x".to_vec(), addr));
    send_unpin_future(&udp.recv_from(Vec::with_capacity(1)));
    send_unpin_future(&udp.send(b"x".to_vec()));
    send_unpin_future(&udp.recv(Vec::with_capacity(1)));
    send_unpin_future(&unix_listener.accept());
    send_future(&UnixStream::connect(&path));
    send_unpin_future(&unix.read(Vec::with_capacity(1)));
    send_unpin_future(&unix.write(b"x".to_vec()));
    send_future(&unix.write_all(b"x".to_vec()));
    send_unpin_future(&unix.shutdown(std::net::Shutdown::Both));
    std::fs::remove_file(&path).unwrap();
}

/// The owned halves are `Send + Sync + Unpin + 'static`, so each can move into a task of its
/// own; the futures of every half are `Send`, as the stream's are.
#[test]
fn split_halves_are_send_sync_unpin_static_and_their_futures_send() {
    fn owned<T: Send + Sync + Unpin + 'static>(_: &T) {}
    fn error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    let driver = Driver::new(&DriverConfig::new()).unwrap();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let connect = || {
        let std = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        TcpStream::from_std(std).unwrap()
    };

    let (read, write): (tcp::OwnedReadHalf, tcp::OwnedWriteHalf) = connect().into_split();
    owned(&read);
    owned(&write);
    send_unpin_future(&read.read(Vec::with_capacity(1)));
    send_unpin_future(&write.write(b"x".to_vec()));
    send_future(&write.write_all(b"x".to_vec()));
    send_unpin_future(&write.shutdown());
    let (other_read, other_write) = connect().into_split();
    let err: tcp::ReuniteError = read.reunite(other_write).unwrap_err();
    owned(&err);
    error(&err);
    let ReuniteError(read, _) = err;
    drop((read, write, other_read));

    let mut stream = connect();
    let (read, write): (tcp::ReadHalf<'_>, tcp::WriteHalf<'_>) = stream.split();
    all(&read);
    all(&write);
    send_unpin_future(&read.read(Vec::with_capacity(1)));
    send_unpin_future(&write.write(b"x".to_vec()));
    send_future(&write.write_all(b"x".to_vec()));
    send_unpin_future(&write.shutdown());

    let (a, _b) = UnixStream::pair().unwrap();
    let (read, write): (unix::OwnedReadHalf, unix::OwnedWriteHalf) = a.into_split();
    owned(&read);
    owned(&write);
    send_unpin_future(&read.read(Vec::with_capacity(1)));
    send_future(&write.write_all(b"x".to_vec()));
    let (mut c, _d) = UnixStream::pair().unwrap();
    let (read, write): (unix::ReadHalf<'_>, unix::WriteHalf<'_>) = c.split();
    all(&read);
    all(&write);
}
