//! `registry = PATH` in every form a user writes it: `super::`, `crate::`, `self::`, through a
//! re-export, a registry declared in a function, and a function named like the registry (the
//! macro imports the registry under its own name, unless the function has it).

use handler_registry::{handler, registry, Registry};

mod outer {
    use super::*;
    #[registry]
    pub static CMDS: Registry<fn() -> u8>;
    #[registry]
    pub static ASYNC: Registry<fn() -> handler_registry::BoxFuture<'static, u8>>;
    pub mod inner {
        use handler_registry::handler;
        #[handler("super", registry = super::CMDS)]
        fn a() -> u8 {
            1
        }
        #[handler("crate", registry = crate::outer::CMDS)]
        fn b() -> u8 {
            2
        }
    }
    #[handler("self", registry = self::CMDS)]
    fn c() -> u8 {
        3
    }
    #[allow(non_snake_case)]
    #[handler("same", registry = inner2::CMDS)]
    fn CMDS_fn() -> u8 {
        4
    }
    pub mod inner2 {
        pub use super::CMDS;
    }
}
mod other {
    use handler_registry::handler;
    #[allow(non_snake_case)]
    #[handler("clash", registry = crate::outer::CMDS)]
    fn CMDS() -> u8 {
        5
    }
    #[allow(non_snake_case)]
    #[handler("clash_async", registry = crate::outer::ASYNC)]
    async fn ASYNC() -> u8 {
        6
    }
}

#[test]
fn every_path_form_reaches_its_registry() {
    fn local() -> u8 {
        #[registry]
        static LOCAL: Registry<fn() -> u8>;
        #[handler("l", registry = LOCAL)]
        fn l() -> u8 {
            9
        }
        LOCAL.get("l").unwrap()()
    }
    assert_eq!(local(), 9);
    assert!(outer::ASYNC.get("clash_async").is_some());
    let got: Vec<u8> = ["super", "crate", "self", "same", "clash"]
        .iter()
        .map(|n| outer::CMDS.get(n).unwrap()())
        .collect();
    assert_eq!(got, [1, 2, 3, 4, 5]);
}
