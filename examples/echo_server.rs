//! A TCP echo server and its clients on the loopback interface (asyncio's "TCP echo server"
//! and "TCP echo client" streams examples, in one program that ends by itself).
//!
//! ```python
//! async def handle_echo(reader, writer):
//!     data = await reader.read(100)
//!     writer.write(data)
//!     await writer.drain()
//!     writer.close()
//!     await writer.wait_closed()
//!
//! async def client(message):
//!     reader, writer = await asyncio.open_connection("127.0.0.1", port)
//!     writer.write(message.encode())
//!     await writer.drain()
//!     print(f"Received: {(await reader.read(100)).decode()!r}")
//!     writer.close()
//!     await writer.wait_closed()
//!
//! async def main():
//!     server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
//!     port = server.sockets[0].getsockname()[1]
//!     async with server:
//!         await asyncio.gather(*(client(f"hello {i}") for i in range(3)))
//! ```
//!
//! ringloop's sockets are lower-level than asyncio's streams: `TcpListener::accept` gives a
//! `TcpStream`, and its `read`/`write_all` go straight to io_uring. Because the kernel
//! writes into the buffer while the read is in flight, a read *takes* an owned buffer and
//! gives it back with the result: `let (result, buf) = stream.read(buf).await;`. A `Vec`
//! buffer is filled up to its *capacity*, and its length is set to the byte count.
//!
//! The server runs as a task that spawns one task per connection; `main` gathers the
//! clients, then cancels the server task, which drops (and so closes) the listener.
//! `#[ringloop::main]` runs `async fn main` on a new runtime, as `asyncio.run(main())` does.
//!
//! Run with `cargo run --example echo_server`.

use ringloop::net::{TcpListener, TcpStream};
use ringloop::{create_task, gather};
use std::io;
use std::net::{Shutdown, SocketAddr};

/// Echoes everything the peer sends until it shuts down its writing side.
async fn handle_echo(stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (read, filled) = stream.read(buf).await;
        if read? == 0 {
            println!("server: {peer} is done");
            return Ok(()); // dropping the stream closes the connection
        }
        println!(
            "server: echoing {:?} to {peer}",
            String::from_utf8_lossy(&filled)
        );
        let (written, emptied) = stream.write_all(filled).await;
        written?;
        buf = emptied;
    }
}

/// Accepts connections forever, one task each.
async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => create_task(async move {
                if let Err(err) = handle_echo(stream, peer).await {
                    println!("server: {peer}: {err}");
                }
            })
            .detach(),
            Err(err) => println!("server: accept failed: {err}"),
        }
    }
}

/// Sends `message`, then reads the echo until the server closes the connection.
async fn client(addr: SocketAddr, message: String) -> io::Result<String> {
    let stream = TcpStream::connect(addr).await?;
    let (written, _) = stream.write_all(message.into_bytes()).await;
    written?;
    stream.shutdown(Shutdown::Write).await?; // "that's all": the server sees end of stream
    let mut echoed = Vec::new();
    loop {
        let (read, buf) = stream.read(Vec::with_capacity(4096)).await;
        if read? == 0 {
            return Ok(String::from_utf8_lossy(&echoed).into_owned());
        }
        echoed.extend_from_slice(&buf);
    }
}

#[ringloop::main]
async fn main() -> io::Result<()> {
    // Port 0: the kernel picks a free port; `local_addr` tells which.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("serving on {addr}");
    let server = create_task(serve(listener));

    let clients = (0..3).map(|i| create_task(client(addr, format!("hello {i}"))));
    for reply in gather(clients).await {
        let reply = reply.expect("the client task failed")?;
        println!("client: received {reply:?}");
    }

    server.cancel(); // like leaving `async with server:`
    println!("server stopped");
    Ok(())
}
