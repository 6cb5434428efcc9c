//! Per-user sessions, in memory only: a random 128-bit token names each uploaded photo's
//! session, which holds the framed face, its per-model latents (the encoder's one pass), the
//! chain cache, and the upload's own bytes with where the face sits in it (the download pastes
//! the edit back into the full-resolution photo). The store is bounded in count and in the
//! bytes of the uploads it keeps (the least recently used session is dropped when full) and
//! sessions expire after a time-to-live without use. Nothing is written to disk.

use crate::error::{Result, ServeError};
use crate::models::ChainCache;
use axum::body::Bytes;
use rand::RngCore;
use sliders_edit::Latent;
use sliders_edit::paste::Placement;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One uploaded photo and what the models made of it.
#[derive(Debug)]
pub struct Session {
    /// The framed face, `[3, S, S]` u8 CHW.
    pub face: Vec<u8>,
    /// The framed face as a PNG (the page's "original").
    pub original_png: Vec<u8>,
    /// One latent per model, of the framed face.
    pub latents: Vec<Latent>,
    /// Start value of each model's sliders.
    pub defaults: Vec<Vec<f64>>,
    /// Latents of chained models' inputs (see `models`).
    pub chain: ChainCache,
    /// The upload as sent (JPEG or PNG, at most `--max-upload-mb`): decoded again for a download.
    pub photo: Bytes,
    /// Where the framed face sits in the full-resolution decode of `photo`.
    pub placement: Placement,
}

struct Entry {
    session: Arc<Mutex<Session>>,
    last_used: Instant,
    photo_bytes: usize,
}

/// The bounded, expiring session store.
pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
    max: usize,
    max_photo_bytes: usize,
    ttl: Duration,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("max", &self.max)
            .field("max_photo_bytes", &self.max_photo_bytes)
            .field("ttl", &self.ttl)
            .field("len", &self.len())
            .finish()
    }
}

/// A new random session token: 32 hex digits from the operating system's generator.
fn token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// A store of at most `max` sessions (at least 1) holding uploads of at most
    /// `max_photo_bytes` in all (a session whose upload alone is larger is still kept, alone),
    /// each dropped after `ttl` without use.
    pub fn new(max: usize, max_photo_bytes: usize, ttl: Duration) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            max: max.max(1),
            max_photo_bytes,
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a session and returns its token; expired sessions are dropped first, then the
    /// least recently used ones while the store is full (in count or in upload bytes).
    pub fn insert(&self, session: Session) -> String {
        let now = Instant::now();
        let photo_bytes = session.photo.len();
        let mut map = self.lock();
        map.retain(|_, e| now.duration_since(e.last_used) < self.ttl);
        let held = |m: &HashMap<String, Entry>| m.values().map(|e| e.photo_bytes).sum::<usize>();
        while !map.is_empty()
            && (map.len() >= self.max || held(&map) + photo_bytes > self.max_photo_bytes)
        {
            let oldest = map
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
                .expect("the store is not empty");
            tracing::info!(
                "session store full ({} sessions, {} MB of uploads); dropping the oldest",
                self.max,
                self.max_photo_bytes >> 20
            );
            map.remove(&oldest);
        }
        let id = token();
        map.insert(
            id.clone(),
            Entry {
                session: Arc::new(Mutex::new(session)),
                last_used: now,
                photo_bytes,
            },
        );
        id
    }

    /// The session named `id` (its use time refreshed), or `UnknownSession` when it never
    /// existed, was dropped, or expired.
    pub fn get(&self, id: &str) -> Result<Arc<Mutex<Session>>> {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get_mut(id) {
            Some(e) if now.duration_since(e.last_used) < self.ttl => {
                e.last_used = now;
                Ok(e.session.clone())
            }
            Some(_) => {
                map.remove(id);
                Err(ServeError::UnknownSession(shorten(id)))
            }
            None => Err(ServeError::UnknownSession(shorten(id))),
        }
    }

    /// Number of sessions held (expired ones included until the next insert).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An id as echoed in an error: at most 40 characters of it.
fn shorten(id: &str) -> String {
    id.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Session {
        Session {
            face: vec![],
            original_png: vec![],
            latents: vec![],
            defaults: vec![],
            chain: vec![],
            photo: Bytes::new(),
            placement: Placement::Box(sliders_celeba::framing::CropBox {
                x0: 0,
                y0: 0,
                x1: 1,
                y1: 1,
            }),
        }
    }

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (token(), token());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_store_is_bounded_and_drops_the_least_recently_used() {
        let s = Sessions::new(2, usize::MAX, Duration::from_secs(60));
        let a = s.insert(empty());
        std::thread::sleep(Duration::from_millis(2));
        let b = s.insert(empty());
        std::thread::sleep(Duration::from_millis(2));
        s.get(&a).unwrap(); // a is now more recent than b
        std::thread::sleep(Duration::from_millis(2));
        let c = s.insert(empty());
        assert_eq!(s.len(), 2);
        assert!(s.get(&a).is_ok());
        assert!(s.get(&c).is_ok());
        assert!(matches!(s.get(&b), Err(ServeError::UnknownSession(_))));
    }

    #[test]
    fn the_uploads_held_stay_within_their_byte_budget() {
        let s = Sessions::new(8, 250, Duration::from_secs(60));
        let with = |n: usize| Session {
            photo: Bytes::from(vec![0u8; n]),
            ..empty()
        };
        let a = s.insert(with(100));
        std::thread::sleep(Duration::from_millis(2));
        let b = s.insert(with(100));
        std::thread::sleep(Duration::from_millis(2));
        let c = s.insert(with(100)); // 300 > 250: the oldest goes
        assert!(matches!(s.get(&a), Err(ServeError::UnknownSession(_))));
        assert!(s.get(&b).is_ok() && s.get(&c).is_ok());
        // An upload over the whole budget is kept, alone.
        let d = s.insert(with(400));
        assert_eq!(s.len(), 1);
        assert!(s.get(&d).is_ok());
    }

    #[test]
    fn sessions_expire_after_their_ttl() {
        let s = Sessions::new(8, usize::MAX, Duration::from_millis(20));
        let a = s.insert(empty());
        assert!(s.get(&a).is_ok());
        std::thread::sleep(Duration::from_millis(40));
        assert!(matches!(s.get(&a), Err(ServeError::UnknownSession(_))));
        assert!(s.is_empty());
    }
}
