//! Functions that a runtime cannot run, and an item that is no function: each error points
//! at its culprit, and no other error follows from it.

#[ringloop::main]
fn not_async() {}

#[ringloop::main]
async fn main(args: Vec<String>, verbose: bool) {}

#[ringloop::main]
async fn generic<T: Default>() -> T {
    T::default()
}

#[ringloop::test]
async fn with_a_where_clause()
where
    u8: Copy,
{
}

#[ringloop::main]
async unsafe fn is_unsafe() {}

#[ringloop::test]
#[test]
async fn tested_twice() {}

#[ringloop::main]
struct NotAFunction;
