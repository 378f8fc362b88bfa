//! Atomic views in the lock: publishing one (in its thread's slot, or in the registry past
//! the slot's entries), the refusals it meets, and finding the live ones.

use super::*;

impl Width {
    /// The kind of slot entry that publishes an atomic view of this width.
    fn kind(self) -> usize {
        match self {
            Width::U32 => ATOMIC_U32,
            Width::U64 => ATOMIC_U64,
        }
    }

    fn of_kind(kind: usize) -> Self {
        if kind == ATOMIC_U32 {
            Width::U32
        } else {
            Width::U64
        }
    }
}

impl ViewLock {
    /// Whether an atomic view is alive.
    pub(crate) fn has_atomic_views(&self) -> bool {
        self.atomics.load(SeqCst) > 0
            || self
                .slots
                .iter()
                .any(|slot| slot.atomic_views(None).next().is_some())
    }

    /// Whether a live atomic view overlaps `range`; the caller has fenced after publishing
    /// whatever it must not be missed by.
    #[inline]
    pub(super) fn atomic_over(&self, range: (usize, usize)) -> bool {
        for slot in self.slots.iter() {
            for (_, s, e) in slot.atomic_views(None) {
                if overlaps((s, e), range) {
                    return true;
                }
            }
        }
        self.atomics.load(SeqCst) > 0 && self.registered_over(range)
    }

    #[cold]
    #[inline(never)]
    fn registered_over(&self, range: (usize, usize)) -> bool {
        self.registry()
            .views
            .iter()
            .any(|v| overlaps((v.start, v.end), range))
    }

    /// The live atomic views that overlap `range` (their ranges and widths), from the slots
    /// and, if it holds any, the registry. The caller has fenced after publishing whatever
    /// it must not be missed by.
    pub(super) fn atomics_over(
        &self,
        range: (usize, usize),
    ) -> impl Iterator<Item = (usize, usize, Width)> + '_ {
        let in_slots = self.slots.iter().flat_map(move |slot| {
            slot.atomic_views(None)
                .filter(move |&(_, s, e)| overlaps((s, e), range))
                .map(|(kind, s, e)| (s, e, Width::of_kind(kind)))
        });
        let registered = (self.atomics.load(SeqCst) > 0).then(|| {
            self.registry()
                .views
                .iter()
                .filter(|v| overlaps((v.start, v.end), range))
                .map(|v| (v.start, v.end, v.width))
                .collect::<Vec<_>>()
        });
        in_slots.chain(registered.into_iter().flatten())
    }

    /// Registers an atomic view of `start..end`; refused if it overlaps a live zero-copy
    /// view or a live atomic view of another width.
    #[inline]
    pub(crate) fn atomic(
        &self,
        start: usize,
        end: usize,
        width: Width,
    ) -> Result<AtomicTicket<'_>, Conflict> {
        let me = self.my_slot();
        if self.is_exclusive_owner(me) {
            return Err(HOLDS_WRITE);
        }
        let ticket = match me.claim_atomic() {
            Some(entry) => {
                entry.publish(width.kind(), start, end);
                let ticket = AtomicTicket {
                    lock: self,
                    entry: Some(entry),
                    id: 0,
                };
                // Published, fenced, then the bias looked at: a reader restoring the bias
                // finds this entry, or this sees it restoring (see `BIASED`). `UNBIASED`
                // also means every biased reader's entry is visible (the revoker's fence is
                // done).
                fence(SeqCst);
                if self.bias.load(Acquire) != UNBIASED {
                    self.revoke_bias();
                }
                ticket
            }
            None => self.register(me, start, end, width)?,
        };
        self.quiet.store(0, Relaxed);
        let (own_entry, own_id) = (ticket.entry, ticket.entry.is_none().then_some(ticket.id));
        let mut round = 0;
        loop {
            let mut wait = self.writer_in();
            for slot in self.slots.iter() {
                // Views counted beyond a slot's entries are taken as plain views of their
                // bounds.
                if slot
                    .wide_span()
                    .is_some_and(|span| overlaps(span, (start, end)))
                {
                    return Err(OVERLAPS_PLAIN);
                }
                for (kind, s, e) in slot.views(None) {
                    if overlaps((s, e), (start, end)) {
                        if kind == PLAIN {
                            return Err(OVERLAPS_PLAIN);
                        }
                        // A copy in progress: it ends soon, without waiting for anything.
                        wait = true;
                    }
                }
                if slot
                    .atomic_views(own_entry)
                    .any(|(kind, s, e)| kind != width.kind() && overlaps((s, e), (start, end)))
                {
                    return Err(OVERLAPS_WIDTH);
                }
            }
            if self.atomics.load(SeqCst) > 0
                && self.registry().views.iter().any(|v| {
                    Some(v.id) != own_id
                        && v.width != width
                        && overlaps((v.start, v.end), (start, end))
                })
            {
                return Err(OVERLAPS_WIDTH);
            }
            if !wait {
                return Ok(ticket);
            }
            backoff(&mut round);
        }
    }

    /// Registers an atomic view that found no free entry in its thread's slot.
    #[cold]
    fn register(
        &self,
        me: &Slot,
        start: usize,
        end: usize,
        width: Width,
    ) -> Result<AtomicTicket<'_>, Conflict> {
        let id = loop {
            {
                let mut registry = self.registry();
                // A reader restores the bias only under this mutex, and not while the
                // registry holds a view; `UNBIASED` means every biased reader's entry is
                // visible (the revoker's fence is done).
                if self.bias.load(Acquire) == UNBIASED {
                    let id = registry.next_id;
                    registry.next_id += 1;
                    registry.views.push(AtomicRecord {
                        id,
                        start,
                        end,
                        width,
                        owner: me as *const Slot as usize,
                    });
                    self.atomics.fetch_add(1, SeqCst);
                    break id;
                }
            }
            self.revoke_bias();
        };
        // Registered, then fenced, then the views looked at (by the caller).
        fence(SeqCst);
        Ok(AtomicTicket {
            lock: self,
            entry: None,
            id,
        })
    }
}
