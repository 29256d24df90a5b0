//! Tasks waiting on a registry (change subscribers in `recv`, `drained_async`): registered
//! under the lock of what they wait for, woken with no lock held.
//!
//! The rules, stated once:
//! - **Registered under the lock the waking takes**, after looking and finding nothing to do:
//!   a wake-up in between cannot be missed.
//! - **One slot per waiter.** A waiter's waker sits in a slot of a [`Parked`] list, and the
//!   waiter keeps where ([`Slot`]): polled again, it replaces its own waker instead of adding
//!   one. Whoever wakes takes the whole list (a new round begins), so a slot is valid only in
//!   the round it was given in.
//! - **Giving up frees the slot.** A waiter that stops waiting (its future dropped, its deadline
//!   passed, its subscriber dropped) empties its slot, and the next waiter reuses it: the list
//!   holds no more slots than waiters at once, however many come and go between wake-ups.
//! - **Wakers are the user's code** (the executor's): cloned before the lock is taken, and
//!   dropped or woken after it is let go. A panic in one waker does not keep the others asleep.

use std::task::Waker;

/// Where a waiter's waker sits in a [`Parked`] list, until the list is next taken.
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    round: u64,
    index: usize,
}

/// The wakers of the tasks waiting on one thing.
pub(crate) struct Parked {
    wakers: Vec<Option<Waker>>,
    /// How many times the list was taken.
    round: u64,
    /// The emptied slots of this round, reused before the list grows.
    free: Vec<usize>,
}

impl Parked {
    pub(crate) const fn new() -> Self {
        Parked {
            wakers: Vec::new(),
            round: 0,
            free: Vec::new(),
        }
    }

    /// Puts a waiter's `waker` in the list: in place of its own from this round (`slot`), in
    /// an emptied slot, or at the end. Returns the waker left unused, to be dropped once the
    /// lock is let go.
    pub(crate) fn park(&mut self, slot: &mut Option<Slot>, waker: Waker) -> Option<Waker> {
        if let Some(Slot { round, index }) = *slot {
            if round == self.round {
                let current = &mut self.wakers[index];
                return match current {
                    Some(current) if current.will_wake(&waker) => Some(waker),
                    _ => current.replace(waker),
                };
            }
        }
        let index = if let Some(index) = self.free.pop() {
            self.wakers[index] = Some(waker);
            index
        } else {
            self.wakers.push(Some(waker));
            self.wakers.len() - 1
        };
        *slot = Some(Slot {
            round: self.round,
            index,
        });
        None
    }

    /// The waiter at `slot` stops waiting: its waker, if still in the list, to be dropped once
    /// the lock is let go.
    pub(crate) fn leave(&mut self, slot: Option<Slot>) -> Option<Waker> {
        let Slot { round, index } = slot?;
        if round != self.round {
            return None;
        }
        self.free.push(index);
        self.wakers[index].take()
    }

    /// Takes every waker, to be woken once the lock is let go; a new round begins.
    pub(crate) fn take(&mut self) -> Wakers {
        self.round += 1;
        self.free.clear();
        Wakers(std::mem::take(&mut self.wakers))
    }
}

/// Tasks to wake once every lock of the registry is let go.
#[must_use = "the tasks must be woken"]
pub(crate) struct Wakers(Vec<Option<Waker>>);

impl Wakers {
    /// No task to wake.
    pub(crate) const fn none() -> Self {
        Wakers(Vec::new())
    }

    /// These tasks and `others`, woken together.
    pub(crate) fn and(mut self, others: Wakers) -> Self {
        self.0.extend(others.0);
        self
    }

    /// Wakes every task. A waker is the user's code and may use the registry; if one panics,
    /// the others are still woken, then the first panic goes on to the caller.
    pub(crate) fn wake(self) {
        let mut panicked = None;
        for waker in self.0.into_iter().flatten() {
            if let Err(payload) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()))
            {
                panicked.get_or_insert(payload);
            }
        }
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
    }
}
