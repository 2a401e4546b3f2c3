//! The memory a replay model writes while it sweeps, owned by the caller.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Working memory for the sweeps of one attribution (or any sequence of
/// sweeps): state buffers reused from one sweep to the next, and the count
/// of graph edges the sweeps read.
///
/// A model borrows it ([`crate::Indicator::model`]); when the workspace is
/// dropped, its buffers go with it. Reuse matters at scale: fresh
/// allocations of the state buffers (agents x steps x nodes doubles) cost
/// the kernel about a tenth of a run zeroing pages. Two attributions that
/// run at once need two workspaces only for their edge counts to stay
/// apart; the buffers are safe to share.
#[derive(Debug, Default)]
pub struct Workspace {
    buffers: Mutex<Vec<Vec<f64>>>,
    edges_read: AtomicU64,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Graph edges read by the sweeps that used this workspace (a pass over
    /// the graph reads its edge count).
    pub fn edges_read(&self) -> u64 {
        self.edges_read.load(Ordering::Relaxed)
    }

    pub(crate) fn count_edges_read(&self, edges: u64) {
        self.edges_read.fetch_add(edges, Ordering::Relaxed);
    }

    /// A buffer of `len` values whose contents are stale (the sweeps
    /// overwrite or clear what they read): the smallest kept buffer that
    /// fits, or a new one.
    ///
    /// A new one comes zeroed from the allocator (`calloc`: for a large
    /// block, pages the kernel has not handed out yet) rather than filled
    /// here, so that its pages are first touched by the sweep's parallel
    /// writes, on every core, and not by one thread writing zeros.
    pub(crate) fn take(&self, len: usize) -> Vec<f64> {
        let mut pool = self.buffers.lock().expect("workspace buffers");
        let best = (0..pool.len())
            .filter(|&b| pool[b].capacity() >= len)
            .min_by_key(|&b| pool[b].capacity());
        let Some(best) = best else {
            return vec![0.0; len];
        };
        let mut buffer = pool.swap_remove(best);
        buffer.resize(len, 0.0);
        buffer.truncate(len);
        buffer
    }

    /// Keeps a buffer for the next sweep.
    pub(crate) fn give(&self, buffer: Vec<f64>) {
        self.buffers.lock().expect("workspace buffers").push(buffer);
    }

    /// Bytes held in kept buffers.
    pub fn bytes(&self) -> usize {
        let pool = self.buffers.lock().expect("workspace buffers");
        pool.iter().map(|b| b.capacity() * 8).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_at_the_size_asked_and_the_smallest_fit_is_reused() {
        let w = Workspace::new();
        w.give(Vec::with_capacity(100));
        w.give(Vec::with_capacity(10));
        let b = w.take(8);
        assert_eq!(b.len(), 8);
        assert!(b.capacity() >= 8 && b.capacity() < 100);
        let big = w.take(50);
        assert_eq!(big.len(), 50);
        assert!(big.capacity() >= 100);
        assert_eq!(w.bytes(), 0);
        w.count_edges_read(7);
        w.count_edges_read(5);
        assert_eq!(w.edges_read(), 12);
    }
}
