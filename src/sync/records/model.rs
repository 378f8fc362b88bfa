//! The model's stand-in for the thread's record: one per `loom` thread, found by id.

use super::{Record, Records};

impl Records {
    /// The model thread's record, and its token (its index, from 1).
    pub(crate) fn mine(&self) -> (&Record, u64) {
        let me = loom::thread::current().id();
        let mut threads = self.threads.lock().unwrap();
        let token = match threads.iter().find(|(t, _)| *t == me) {
            Some(&(_, token)) => token,
            None => {
                let token = threads.len() + 1;
                threads.push((me, token));
                token
            }
        };
        drop(threads);
        let token = token as u64;
        let record = match self.iter().find(|r| r.token() == token) {
            Some(record) => record,
            None => self.acquire(token, false),
        };
        (record, token)
    }

    /// The model thread exits: its record is orphaned (and released once idle), as the
    /// thread-exit guard does outside the model.
    pub(crate) fn exits(&self) {
        self.mine().0.orphan();
    }
}
