//! The background thread of [`FlushPolicy::EveryMillis`](super::FlushPolicy::EveryMillis).

use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A thread that runs a flush task every period; dropping this stops and joins it, after
/// one last run of the task, unless the task can never finish.
pub(crate) struct Flusher {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
    /// Whether the task waits for something that will never come (a leaked write guard):
    /// then the thread is left behind instead of joined.
    stuck: Box<dyn Fn() -> bool + Send + Sync>,
}

struct Signal {
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Flusher {
    /// Starts a thread that calls `task` every `interval`, and once more when stopped;
    /// `stuck` tells, when it is stopped, whether `task` could ever return.
    pub(crate) fn start(
        interval: Duration,
        mut task: impl FnMut() + Send + 'static,
        stuck: impl Fn() -> bool + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let signal = Arc::new(Signal {
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let thread_signal = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("mmap-io-flusher".into())
            .spawn(move || {
                let mut stop = thread_signal.stop.lock();
                loop {
                    let stopping = *stop || {
                        thread_signal.wake.wait_for(&mut stop, interval);
                        *stop
                    };
                    parking_lot::MutexGuard::unlocked(&mut stop, &mut task);
                    if stopping {
                        break;
                    }
                }
            })?;
        Ok(Self {
            signal,
            thread: Some(thread),
            stuck: Box::new(stuck),
        })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        *self.signal.stop.lock() = true;
        self.signal.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            if (self.stuck)() {
                // Dropping the handle detaches the thread.
                return;
            }
            // The thread does not panic; if it somehow did, there is nothing left to stop.
            let _ = thread.join();
        }
    }
}
