//! `#[handler]` on an `async fn`: registered as a shim returning `BoxFuture<'static, T>`, in the
//! default registry and in typed registries; the function itself stays callable directly.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use handler_registry::{handler, lookup, registry, BoxFuture, Error, Registry};

// The handlers below only wait on `YieldOnce`, which is ready when polled again, so
// `block_on`'s no-op waker is enough.
mod support;
use support::block_on;

/// Pending on the first poll, ready on the second: makes the handlers really suspend.
#[derive(Default)]
struct YieldOnce {
    polled: bool,
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            Poll::Ready(())
        } else {
            self.polled = true;
            Poll::Pending
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub path: String,
    pub body: Vec<u8>,
}

#[derive(Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

#[registry]
pub static ROUTES: Registry<fn(Request) -> BoxFuture<'static, Response>>;

/// Echo the request body.
#[handler("echo", registry = ROUTES, aliases = ["repeat"])]
async fn echo(request: Request) -> Response {
    YieldOnce::default().await;
    Response {
        status: 200,
        body: String::from_utf8_lossy(&request.body).into_owned(),
    }
}

#[handler("missing", registry = ROUTES)]
async fn missing(request: Request) -> Response {
    Response {
        status: 404,
        body: format!("no route {}", request.path),
    }
}

#[handler("math.double")]
async fn double(x: u32) -> u32 {
    YieldOnce::default().await;
    x * 2
}

#[handler("math.sum")]
async fn sum(values: Vec<u64>, shared: Arc<u64>) -> u64 {
    YieldOnce::default().await;
    values.iter().sum::<u64>() + *shared
}

#[handler("unit")]
async fn unit() {}

#[handler("text.static")]
async fn static_len(text: &'static str) -> usize {
    text.len()
}

/// # Safety
/// `a + b` must not overflow.
#[handler("unsafe.add")]
async unsafe fn add_unchecked(a: u8, b: u8) -> u8 {
    // SAFETY: the caller guarantees that the sum fits.
    unsafe { a.unchecked_add(b) }
}

mod nested {
    use handler_registry::{dynamic, handler};

    #[handler("nested.negate", registry = super::NUMBERS)]
    #[dynamic]
    async fn negate(x: i64) -> i64 {
        -x
    }
}

#[registry]
pub static NUMBERS: Registry<fn(i64) -> BoxFuture<'static, i64>>;

#[test]
fn typed_registry_holds_async_handlers() {
    let request = Request {
        path: "/echo".into(),
        body: b"hello".to_vec(),
    };
    let echo = ROUTES.get("echo").unwrap();
    assert_eq!(
        block_on(echo(request.clone())),
        Response {
            status: 200,
            body: "hello".into()
        }
    );
    let repeat = ROUTES.get("repeat").unwrap();
    assert_eq!(block_on(repeat(request.clone())).body, "hello");
    let missing = ROUTES.lookup("missing").unwrap();
    assert_eq!(
        block_on(missing(request)),
        Response {
            status: 404,
            body: "no route /echo".into()
        }
    );
    let names: Vec<_> = ROUTES
        .entries()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(names, ["echo", "missing"]);
    assert_eq!(ROUTES.entries()[0].doc(), "Echo the request body.");
}

#[test]
fn default_registry_hands_out_the_boxed_signature() {
    let double = lookup::<fn(u32) -> BoxFuture<'static, u32>>("math.double").unwrap();
    assert_eq!(block_on(double(21)), 42);
    let sum = lookup::<fn(Vec<u64>, Arc<u64>) -> BoxFuture<'static, u64>>("math.sum").unwrap();
    assert_eq!(block_on(sum(vec![1, 2, 3], Arc::new(10))), 16);
    let unit = lookup::<fn() -> BoxFuture<'static, ()>>("unit").unwrap();
    block_on(unit());
    let len = lookup::<fn(&'static str) -> BoxFuture<'static, usize>>("text.static").unwrap();
    assert_eq!(block_on(len("four")), 4);
    let add = lookup::<unsafe fn(u8, u8) -> BoxFuture<'static, u8>>("unsafe.add").unwrap();
    // SAFETY: 3 + 4 fits in a u8.
    assert_eq!(block_on(unsafe { add(3, 4) }), 7);
}

#[test]
fn the_unboxed_signature_is_a_mismatch() {
    let error = lookup::<fn(u32) -> u32>("math.double").unwrap_err();
    let Error::SignatureMismatch {
        expected, found, ..
    } = &error
    else {
        panic!("expected SignatureMismatch, got {error:?}");
    };
    assert_eq!(*expected, "fn(u32) -> u32");
    assert!(found.contains("Future<Output = u32>"), "{found}");
    assert!(found.contains("Send"), "{found}");
}

#[test]
fn the_async_fn_stays_callable_directly() {
    assert_eq!(block_on(double(5)), 10);
    assert_eq!(block_on(sum(vec![4], Arc::new(1))), 5);
    assert_eq!(
        block_on(missing(Request {
            path: "/x".into(),
            body: Vec::new()
        }))
        .status,
        404
    );
}

#[test]
fn dynamic_async_handlers_can_be_replaced() {
    let negate = NUMBERS.get("nested.negate").unwrap();
    assert_eq!(block_on(negate(5)), -5);
    let previous = NUMBERS
        .replace("nested.negate", |x| Box::pin(async move { x + 100 }))
        .unwrap();
    assert_eq!(block_on(previous(1)), -1);
    assert_eq!(block_on(NUMBERS.get("nested.negate").unwrap()(1)), 101);
}

#[test]
fn boxed_futures_are_send() {
    let double = lookup::<fn(u32) -> BoxFuture<'static, u32>>("math.double").unwrap();
    let future = double(4);
    let joined = std::thread::spawn(move || block_on(future)).join().unwrap();
    assert_eq!(joined, 8);
}
