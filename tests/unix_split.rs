//! `UnixStream::into_split` and `split`, on every flavour: the scenarios of
//! `support/split_support.rs` (four tasks moving 4 MiB each way, `reunite` and its error,
//! reads cancelled on a read half, dropping either half, the borrowed halves at once), and the
//! halves' addresses.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;
#[path = "support/split_support.rs"]
mod split_support;

use io_support::{socket_path, RemoveOnDrop};
use ringloop::net::{unix, UnixListener, UnixStream};

rt_test! {
    fn four_tasks_move_4_mib_each_way(flavor: Flavor) {
        split_support::four_tasks_move_4_mib_each_way::<UnixStream>(flavor);
    }

    fn reunite_gives_back_a_working_stream(flavor: Flavor) {
        split_support::reunite_gives_back_a_working_stream::<UnixStream>(flavor);
    }

    fn reunite_of_two_streams_gives_both_halves_back(flavor: Flavor) {
        split_support::reunite_of_two_streams_gives_both_halves_back::<UnixStream>(flavor);
    }

    fn reads_cancelled_on_a_read_half_lose_nothing_for_the_next_reader(flavor: Flavor) {
        split_support::reads_cancelled_on_a_read_half_lose_nothing_for_the_next_reader::<
            UnixStream,
        >(flavor);
    }

    fn dropping_the_read_half_mid_read_leaves_the_write_half_working(flavor: Flavor) {
        split_support::dropping_the_read_half_mid_read_leaves_the_write_half_working::<
            UnixStream,
        >(flavor);
    }

    fn dropping_the_write_half_shuts_down_writing_only(flavor: Flavor) {
        split_support::dropping_the_write_half_shuts_down_writing_only::<UnixStream>(flavor);
    }

    fn borrowed_halves_read_and_write_at_once(flavor: Flavor) {
        split_support::borrowed_halves_read_and_write_at_once::<UnixStream>(flavor);
    }

    fn the_halves_of_a_connection_through_a_socket_file_name_its_peer(flavor: Flavor) {
        let rt = flavor.runtime();
        let path = socket_path("unix-split");
        let _remove = RemoveOnDrop(path.clone());
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let (client, accepted) =
                ringloop::gather!(UnixStream::connect(&path), listener.accept()).await;
            let (read, write): (unix::OwnedReadHalf, unix::OwnedWriteHalf) =
                client.unwrap().into_split();
            assert_eq!(read.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            assert_eq!(write.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            assert!(read.local_addr().unwrap().is_unnamed());
            let (mut server, _) = accepted.unwrap();
            let (read, _write): (unix::ReadHalf<'_>, unix::WriteHalf<'_>) = server.split();
            assert_eq!(read.local_addr().unwrap().as_pathname(), Some(path.as_path()));
        });
    }
}
