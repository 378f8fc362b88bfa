//! The background thread of [`FlushPolicy::EveryMillis`](super::FlushPolicy::EveryMillis).

use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A thread that runs a flush task every period; dropping this stops and joins it, after
/// one last run of the task.
pub(crate) struct Flusher {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

struct Signal {
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Flusher {
    /// Starts a thread that calls `task` every `interval`, and once more when stopped.
    pub(crate) fn start(
        interval: Duration,
        mut task: impl FnMut() + Send + 'static,
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
        })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        *self.signal.stop.lock() = true;
        self.signal.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // The thread does not panic; if it somehow did, there is nothing left to stop.
            let _ = thread.join();
        }
    }
}
