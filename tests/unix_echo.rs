//! Unix-domain stream echo through the runtime, on every flavour: a server task on a socket
//! file that spawns one echo task per connection, and client tasks making round trips of
//! several sizes; a `UnixStream::pair` between two tasks; and the connect errors (`NotFound`
//! where no file is, `ConnectionRefused` where nobody listens).

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::{payload, socket_path, RemoveOnDrop};
use ringloop::net::{UnixListener, UnixStream};
use ringloop::{create_task, gather};
use std::io;
use std::net::Shutdown;
use std::path::PathBuf;

/// Concurrent clients per echo test.
const CLIENTS: usize = 8;

/// The sizes of each client's round trips.
const SIZES: [usize; 4] = [1, 100, 64 * 1024, 256 * 1024];

/// Accepts `connections` connections, serving each in a task of its own; returns the bytes
/// echoed in all.
async fn serve(listener: UnixListener, connections: usize) -> io::Result<usize> {
    let mut handlers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (stream, peer) = listener.accept().await?;
        assert!(
            peer.as_pathname().is_none(),
            "a connecting socket is unnamed"
        );
        handlers.push(create_task(echo(stream)));
    }
    let mut total = 0;
    for handler in gather(handlers).await {
        total += handler.expect("an echo task failed")?;
    }
    Ok(total)
}

/// Writes back everything it reads, until the end of the stream; returns the byte count.
async fn echo(stream: UnixStream) -> io::Result<usize> {
    let mut total = 0;
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let (n, filled) = stream.read(buf).await;
        if n? == 0 {
            return Ok(total);
        }
        total += filled.len();
        let (written, back) = stream.write_all(filled).await;
        written?;
        buf = back;
    }
}

/// Reads exactly `len` bytes.
async fn read_exact(stream: &UnixStream, len: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut buf = Vec::with_capacity(32 * 1024);
    while out.len() < len {
        let (n, filled) = stream.read(buf).await;
        if n? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&filled);
        buf = filled;
    }
    Ok(out)
}

/// Makes a round trip of each size of [`SIZES`], writing and reading at the same time.
async fn round_trips(stream: &UnixStream, id: usize) -> io::Result<()> {
    for (round, &size) in SIZES.iter().enumerate() {
        let message = payload((id * SIZES.len() + round) as u64, size);
        let ((written, sent), echoed) =
            gather!(stream.write_all(message), read_exact(stream, size)).await;
        written?;
        assert!(
            echoed? == sent,
            "client {id}: round {round} ({size} bytes) came back changed"
        );
    }
    Ok(())
}

async fn client(path: PathBuf, id: usize) -> io::Result<()> {
    let stream = UnixStream::connect(&path).await?;
    assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
    round_trips(&stream, id).await
}

rt_test! {
    fn echo_through_a_socket_file(flavor: Flavor) {
        let rt = flavor.runtime();
        let path = socket_path("unix-echo");
        let _remove = RemoveOnDrop(path.clone());
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = create_task(serve(listener, CLIENTS));
            let clients = (0..CLIENTS).map(|id| create_task(client(path.clone(), id)));
            for (id, outcome) in gather(clients).await.into_iter().enumerate() {
                let outcome = outcome.expect("a client task failed");
                outcome.unwrap_or_else(|e| panic!("client {id}: {e}"));
            }
            let echoed = server.await.expect("the server task failed").unwrap();
            assert_eq!(echoed, CLIENTS * SIZES.iter().sum::<usize>());
        });
    }

    fn echo_over_a_pair(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let server = create_task(echo(b));
            let client = create_task(async move {
                round_trips(&a, 0).await?;
                a.shutdown(Shutdown::Write).await?;
                // The echo task saw the end of the stream and dropped its end.
                let (n, _) = a.read(Vec::with_capacity(8)).await;
                n
            });
            let end = client.await.expect("the client task failed").unwrap();
            assert_eq!(end, 0);
            let echoed = server.await.expect("the echo task failed").unwrap();
            assert_eq!(echoed, SIZES.iter().sum::<usize>());
        });
    }

    fn connect_errors_name_the_cause(flavor: Flavor) {
        let rt = flavor.runtime();
        let path = socket_path("unix-refused");
        let _remove = RemoveOnDrop(path.clone());
        rt.block_on(async {
            let missing = create_task(UnixStream::connect(path.clone()));
            let err = missing.await.unwrap().expect_err("no socket file there");
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
            // A socket file whose listener is gone.
            drop(UnixListener::bind(&path).unwrap());
            assert!(path.exists());
            let refused = create_task(UnixStream::connect(path.clone()));
            let err = refused.await.unwrap().expect_err("nobody listens there");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        });
    }
}
