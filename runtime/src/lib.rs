//! TEMPORARY API SKETCH: the signatures are final, the bodies are being written.
#![allow(missing_docs, unused_variables, clippy::all)]
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Debug, Default)]
pub struct Builder;
impl Builder {
    pub fn worker_threads(&mut self, n: usize) -> &mut Self { self }
    pub fn single_threaded(&mut self) -> &mut Self { self }
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self { self }
    pub fn build(&mut self) -> io::Result<Runtime> { todo!() }
}
#[derive(Debug)]
pub struct Runtime;
impl Runtime {
    pub fn builder() -> Builder { Builder }
    pub fn new() -> io::Result<Runtime> { todo!() }
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output { todo!() }
    pub fn spawn<F>(&self, fut: F) -> Task<F::Output> where F: Future + Send + 'static, F::Output: Send + 'static { todo!() }
    pub fn handle(&self) -> Handle { todo!() }
}
#[derive(Debug, Clone)]
pub struct Handle;
impl Handle {
    pub fn spawn<F>(&self, fut: F) -> Task<F::Output> where F: Future + Send + 'static, F::Output: Send + 'static { todo!() }
}
pub fn run<F: Future>(fut: F) -> F::Output { todo!() }
#[derive(Debug)]
pub struct Task<T>(std::marker::PhantomData<T>);
impl<T> Future for Task<T> { type Output = Result<T, TaskError>; fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> { todo!() } }
impl<T> Task<T> { pub fn cancel(&self) -> bool { todo!() } pub fn is_done(&self) -> bool { todo!() } pub fn is_cancelled(&self) -> bool { todo!() } }
#[derive(Debug)]
pub enum TaskError { Cancelled, Panicked(Box<dyn std::any::Any + Send + 'static>) }
pub fn create_task<F>(fut: F) -> Task<F::Output> where F: Future + Send + 'static, F::Output: Send + 'static { todo!() }
pub fn create_local_task<F>(fut: F) -> Task<F::Output> where F: Future + 'static, F::Output: 'static { todo!() }
pub async fn yield_now() { todo!() }
pub async fn gather<I>(futs: I) -> Vec<<I::Item as Future>::Output> where I: IntoIterator, I::Item: Future { todo!() }
