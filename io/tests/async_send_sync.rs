//! `Send`/`Sync`/`Unpin` of every public type and future: the runtime moves tasks (and so
//! these futures) between worker threads.

use std::future::Future;
use std::time::Duration;

use ringloop_io::fs::File;
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
