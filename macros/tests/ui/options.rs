//! Wrong options: each error points at the option or value at fault.

#[ringloop::main(flavour = "single")]
async fn unknown_option() {}

#[ringloop::main(flavor = "current_thread")]
async fn unknown_flavor() {}

#[ringloop::main(flavor = single)]
async fn flavor_not_a_string() {}

#[ringloop::main(worker_threads = 0)]
async fn no_workers() {}

#[ringloop::main(flavor = "single", worker_threads = 2)]
async fn workers_on_one_thread() {}

#[ringloop::test(worker_threads = 2)]
async fn workers_on_the_test_default() {}

#[ringloop::main(flavor = "multi", worker_threads = 2, flavor = "single")]
async fn repeated() {}

#[ringloop::main(crate = "not a path")]
async fn bad_crate() {}

#[ringloop::main(single)]
async fn not_a_name_value() {}

fn main() {}
