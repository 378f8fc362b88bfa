//! The look an operation takes at the entries other code published, and what it does about
//! each (docs/CONCURRENCY.md, "Who waits for whom").

use super::*;

impl FileLock {
    /// The shared side's look at the exclusive entries of the file.
    pub(super) fn scan_shared<'a>(&'a self, op: &Op<'_>, spans: &mut AtomicSpans) -> Found<'a> {
        let mut holds_other = false;
        let mut wait_for_waiting = None;
        let mut wait = None;
        let refused = self
            .records()
            .find_live(self.id(), op.entry, |token, e, seen| {
                let own = token == op.me;
                let other = kind(seen.tag);
                holds_other |= own;
                if !is_exclusive(other) || !op.meets(&seen) {
                    return None;
                }
                if is_atomic(other) {
                    if op.kind == COPY {
                        let width = if other == ATOMIC32 {
                            Width::U32
                        } else {
                            Width::U64
                        };
                        spans.push((seen.start, seen.end, width));
                        return None;
                    }
                    // Refused only by an atomic view that is in; one still deciding is waited for.
                    if state(seen.tag) == GO {
                        return Some(OVERLAPS_ATOMIC);
                    }
                }
                if own {
                    return Some(HOLDS_WRITE);
                }
                if state(seen.tag) == WAITING {
                    wait_for_waiting.get_or_insert((e as *const Entry, seen.tag));
                } else {
                    wait.get_or_insert((e as *const Entry, seen.tag));
                }
                None
            });
        if let Some(conflict) = refused {
            return Found::Refuse(conflict);
        }
        // A waiting party may wait for a view the calling code holds: join it (it looks
        // again before it goes). So does a pin (a copy of no bytes, which keeps a mapping in
        // place during a flush): the flush may hold its turn meanwhile, which code that
        // holds views and the waiting party's own wait may need.
        let pin = op.kind == COPY && op.range.0 >= op.range.1;
        match wait.or(wait_for_waiting.filter(|_| !holds_other && !pin)) {
            // SAFETY: entries live as long as the records, which outlive `self`'s borrow.
            Some((e, tag)) => Found::Wait(unsafe { &*e }, tag),
            None => Found::Nothing,
        }
    }

    /// Counts a slow read, and restores the bias after enough of them.
    pub(super) fn note_slow_read(&self) {
        if !bias_available() {
            return;
        }
        let quiet = self.quiet.load(Relaxed).saturating_add(1);
        self.quiet.store(quiet, Relaxed);
        if quiet < RESTORE_AFTER
            || self
                .bias
                .compare_exchange(UNBIASED, RESTORING, Relaxed, Relaxed)
                .is_err()
        {
            return;
        }
        // An exclusive party publishes, fences, then reads the bias: it sees `RESTORING`
        // (and waits for the outcome) or shows here.
        fence(SeqCst);
        let exclusive = self
            .records()
            .find_live(self.id(), std::ptr::null(), |_, _, seen| {
                is_exclusive(kind(seen.tag)).then_some(())
            })
            .is_some();
        self.quiet.store(0, Relaxed);
        self.bias
            .store(if exclusive { UNBIASED } else { BIASED }, Release);
    }

    /// Publishes an exclusive entry and waits for its turn; `TRY`: fail with
    /// [`WOULD_BLOCK`] instead of waiting.
    #[inline(always)]
    pub(super) fn exclusive<const TRY: bool>(
        &self,
        kind: usize,
        map: usize,
        start: usize,
        end: usize,
    ) -> Result<Ticket<'_>, Conflict> {
        let entry = self.mine().claim();
        entry.fill_fenced(self.id(), map, start, end, kind | PENDING);
        if self.bias.load(Acquire) != UNBIASED {
            self.unbias();
        }
        if self.quiet.load(Relaxed) != 0 {
            self.quiet.store(0, Relaxed);
        }
        let op = Op {
            entry,
            kind,
            map,
            range: (start, end),
            me: entry.record().token(),
        };
        match self.scan_exclusive(&op) {
            Found::Nothing => {
                entry.set_state(GO);
                Ok(Ticket { entry })
            }
            found => self.exclusive_slow::<TRY>(op, found),
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn exclusive_slow<'a, const TRY: bool>(
        &'a self,
        op: Op<'a>,
        mut found: Found<'a>,
    ) -> Result<Ticket<'a>, Conflict> {
        loop {
            match found {
                Found::Nothing => {
                    op.entry.set_state(GO);
                    return Ok(Ticket { entry: op.entry });
                }
                Found::Refuse(conflict) => {
                    op.entry.free();
                    return Err(refusal::<TRY>(conflict));
                }
                Found::Wait(other, tag) => {
                    if TRY {
                        op.entry.free();
                        return Err(WOULD_BLOCK);
                    }
                    // Waiting for a higher `PENDING` entry to decide: stay `PENDING`. (Ranks
                    // order the entries of different records; one record never holds two
                    // `PENDING` entries of one file.)
                    let decide = state(tag) == PENDING
                        && is_exclusive(kind(tag))
                        && other.rank() > op.entry.rank();
                    if decide {
                        wait_change(other, tag);
                    } else {
                        op.entry.set_state(WAITING);
                        wait_change(other, tag);
                        op.entry.set_state(PENDING);
                        fence(SeqCst);
                        if self.bias.load(Acquire) != UNBIASED {
                            self.unbias();
                        }
                    }
                }
            }
            found = self.scan_exclusive(&op);
        }
    }

    /// The exclusive side's look at every entry of the file.
    #[inline]
    pub(super) fn scan_exclusive<'a>(&'a self, op: &Op<'_>) -> Found<'a> {
        let mut wait = None;
        let refused = self
            .records()
            .find_live(self.id(), op.entry, |token, e, seen| {
                if !op.meets(&seen) {
                    return None;
                }
                match self.judge(op, &seen, token == op.me) {
                    Judged::Refuse(conflict) => Some(conflict),
                    Judged::Wait => {
                        wait.get_or_insert((e as *const Entry, seen.tag));
                        None
                    }
                    Judged::Ignore => None,
                }
            });
        match (refused, wait) {
            (Some(conflict), _) => Found::Refuse(conflict),
            // SAFETY: entries live as long as the records, which outlive `self`'s borrow.
            (None, Some((e, tag))) => Found::Wait(unsafe { &*e }, tag),
            (None, None) => Found::Nothing,
        }
    }

    /// What an exclusive operation does about one live entry it meets.
    pub(super) fn judge(&self, op: &Op<'_>, seen: &Seen, own: bool) -> Judged {
        let other = kind(seen.tag);
        let refuse = |conflict| Judged::Refuse(conflict);
        if !is_exclusive(other) {
            return match (op.kind, other) {
                (_, LENT) if op.kind != RESIZE => refuse(OVERLAPS_LENT),
                (ATOMIC32 | ATOMIC64, READ) => refuse(OVERLAPS_PLAIN),
                (RESIZE, _) if own => refuse(HOLDS_VIEW_RESIZE),
                _ if own => refuse(HOLDS_VIEW),
                _ => Judged::Wait,
            };
        }
        if is_atomic(op.kind) && op.kind == other {
            return Judged::Ignore;
        }
        // Refused only by a party that is in (`GO`): one still deciding may yet step aside,
        // or be refused itself when it looks again.
        if state(seen.tag) == GO {
            match (op.kind, other) {
                (WRITE, ATOMIC32 | ATOMIC64) => return refuse(OVERLAPS_ATOMIC),
                (ATOMIC32 | ATOMIC64, WRITE) => return refuse(OVERLAPS_PLAIN),
                (ATOMIC32 | ATOMIC64, ATOMIC32 | ATOMIC64) => return refuse(OVERLAPS_WIDTH),
                _ => {}
            }
        }
        match (op.kind, other) {
            (RESIZE, ATOMIC32 | ATOMIC64) if own => return refuse(HOLDS_VIEW_RESIZE),
            _ if own => return refuse(HOLDS_WRITE),
            _ => {}
        }
        match state(seen.tag) {
            WAITING => Judged::Ignore,
            GO => Judged::Wait,
            // Two `PENDING` parties: the lower one goes first; the higher one steps aside
            // (waits as `WAITING`), and the lower one waits for it to (still `PENDING`).
            _ => Judged::Wait,
        }
    }
}
