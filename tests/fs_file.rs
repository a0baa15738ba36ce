//! `fs::File` through the runtime, on every flavour: `write_all` and `write_all_at` write the
//! whole buffer however many writes it takes (a short write goes on from where it stopped),
//! give the buffer back, and `write_all` advances the file position.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::payload;
use ringloop::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// A path in the temporary directory, unique to this process and `name`, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        let file = format!("ringloop-fs-file-{}-{name}", std::process::id());
        TempPath(std::env::temp_dir().join(file))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

rt_test! {
    fn write_all_goes_on_after_short_writes(flavor: Flavor) {
        let rt = flavor.runtime();
        // A socket takes a few hundred KiB per write (a regular file takes everything at
        // once), so 4 MiB take many writes, each continuing where the last one stopped.
        let (writer, mut reader) = UnixStream::pair().unwrap();
        let data = payload(1, 4 << 20);
        let reading = std::thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap();
            got
        });
        let back = rt.block_on(async {
            let file = File::from(OwnedFd::from(writer));
            let (done, back) = file.write_all(data.clone()).await;
            done.unwrap();
            back
        });
        assert!(back == data, "the buffer comes back intact");
        let got = reading.join().unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the bytes arrived out of order or repeated");
    }

    fn write_all_advances_the_file_position(flavor: Flavor) {
        let rt = flavor.runtime();
        let path = TempPath::new(&format!("position-{flavor:?}"));
        let (first, second) = (payload(2, 3 << 20), payload(3, 1000));
        rt.block_on(async {
            let file = File::create(&path.0).await.unwrap();
            let (done, _) = file.write_all(first.clone()).await;
            done.unwrap();
            let (done, _) = file.write_all(second.clone()).await;
            done.unwrap();
            // Nothing to write is done at once.
            let (done, empty) = file.write_all(Vec::new()).await;
            done.unwrap();
            assert!(empty.is_empty());
        });
        let written = std::fs::read(&path.0).unwrap();
        assert_eq!(written.len(), first.len() + second.len());
        assert!(written == [first, second].concat());
    }

    fn write_all_at_writes_the_whole_buffer_at_the_offset(flavor: Flavor) {
        let rt = flavor.runtime();
        let path = TempPath::new(&format!("offset-{flavor:?}"));
        let data = payload(4, 3 << 20);
        rt.block_on(async {
            let file = File::create(&path.0).await.unwrap();
            let (done, _) = file.write_all_at(&b"0123456789"[..], 0).await;
            done.unwrap();
            let (done, back) = file.write_all_at(data.clone(), 5).await;
            done.unwrap();
            assert!(back == data, "the buffer comes back intact");
        });
        let written = std::fs::read(&path.0).unwrap();
        assert_eq!(written.len(), 5 + data.len());
        assert_eq!(&written[..5], b"01234");
        assert!(written[5..] == data[..]);
    }
}
