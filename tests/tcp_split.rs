//! `TcpStream::into_split` and `split`, on every flavour: the scenarios of
//! `support/split_support.rs` (four tasks moving 4 MiB each way, `reunite` and its error,
//! reads cancelled on a read half, dropping either half, the borrowed halves at once), and
//! `set_nodelay` through the write halves.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;
#[path = "support/split_support.rs"]
mod split_support;

use ringloop::net::{tcp, TcpStream};
use split_support::Kind;

rt_test! {
    fn four_tasks_move_4_mib_each_way(flavor: Flavor) {
        split_support::four_tasks_move_4_mib_each_way::<TcpStream>(flavor);
    }

    fn reunite_gives_back_a_working_stream(flavor: Flavor) {
        split_support::reunite_gives_back_a_working_stream::<TcpStream>(flavor);
    }

    fn reunite_of_two_streams_gives_both_halves_back(flavor: Flavor) {
        split_support::reunite_of_two_streams_gives_both_halves_back::<TcpStream>(flavor);
    }

    fn reads_cancelled_on_a_read_half_lose_nothing_for_the_next_reader(flavor: Flavor) {
        split_support::reads_cancelled_on_a_read_half_lose_nothing_for_the_next_reader::<
            TcpStream,
        >(flavor);
    }

    fn dropping_the_read_half_mid_read_leaves_the_write_half_working(flavor: Flavor) {
        split_support::dropping_the_read_half_mid_read_leaves_the_write_half_working::<
            TcpStream,
        >(flavor);
    }

    fn dropping_the_write_half_shuts_down_writing_only(flavor: Flavor) {
        split_support::dropping_the_write_half_shuts_down_writing_only::<TcpStream>(flavor);
    }

    fn borrowed_halves_read_and_write_at_once(flavor: Flavor) {
        split_support::borrowed_halves_read_and_write_at_once::<TcpStream>(flavor);
    }

    fn nodelay_through_the_write_halves(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (mut a, _b) = TcpStream::pair().await;
            {
                let (_read, write): (tcp::ReadHalf<'_>, tcp::WriteHalf<'_>) = a.split();
                write.set_nodelay(true).unwrap();
                assert!(write.nodelay().unwrap());
            }
            assert!(a.nodelay().unwrap());
            let (read, write): (tcp::OwnedReadHalf, tcp::OwnedWriteHalf) = a.into_split();
            write.set_nodelay(false).unwrap();
            assert!(!write.nodelay().unwrap());
            assert!(!read.as_ref().nodelay().unwrap(), "one socket under both halves");
            assert_eq!(read.peer_addr().unwrap(), write.peer_addr().unwrap());
            assert_eq!(read.local_addr().unwrap(), write.local_addr().unwrap());
        });
    }
}
