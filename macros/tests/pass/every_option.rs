//! Every option, on `main` and on other functions: it compiles, and runs.

use std::rc::Rc;
use std::thread;

#[ringloop::main(flavor = "single")]
async fn single() -> usize {
    // A `!Send` task: allowed on one thread.
    let shared = Rc::new(2);
    let task = ringloop::create_local_task({
        let shared = shared.clone();
        async move { *shared }
    });
    task.await.unwrap()
}

#[ringloop::main(flavor = "multi", worker_threads = 2)]
async fn two_workers() -> String {
    let task = ringloop::create_task(async { thread::current().name().map(str::to_owned) });
    task.await.unwrap().unwrap()
}

mod facade {
    pub(crate) use ringloop as renamed;
}

#[ringloop::main(crate = "crate::facade::renamed", worker_threads = 1)]
async fn renamed_crate() -> u32 {
    crate::facade::renamed::create_task(async { 7 }).await.unwrap()
}

#[ringloop::test(flavor = "multi", worker_threads = 3, crate = "ringloop")]
#[should_panic]
async fn a_test_with_every_option() {
    panic!("not compiled into this program: it is no test build");
}

#[ringloop::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Each of the others starts a runtime of its own: not from this runtime's thread.
    assert_eq!(thread::spawn(single).join().unwrap(), 2);
    let worker = thread::spawn(two_workers).join().unwrap();
    assert!(worker.starts_with("ringloop-worker-"), "{worker}");
    assert_eq!(thread::spawn(renamed_crate).join().unwrap(), 7);
    ringloop::sleep(std::time::Duration::from_millis(1)).await?;
    Ok(())
}
