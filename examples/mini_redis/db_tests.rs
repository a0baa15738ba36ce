//! The store: conditions, integers, expiry (lazy and swept), and multi-key commands.

use super::*;
use std::time::Duration;

#[test]
fn set_get_delete_and_conditions() {
    let db = Db::new(4);
    let mut seen = Vec::new();
    assert!(db.set(b"k", b"v", Condition::Always, Expiry::Never, |old| {
        assert!(old.is_none())
    }));
    assert!(
        !db.set(b"k", b"w", Condition::Missing, Expiry::Never, |old| {
            seen.extend_from_slice(old.unwrap())
        })
    );
    assert_eq!(seen, b"v");
    assert!(!db.set(b"x", b"w", Condition::Present, Expiry::Never, |_| {}));
    assert_eq!(db.get(b"k", |v| v.map(<[u8]>::to_vec)), Some(b"v".to_vec()));
    assert_eq!(db.len(), 1);
    assert!(db.delete(b"k"));
    assert!(!db.delete(b"k"));
    assert!(!db.exists(b"k"));
}

#[test]
fn incr_keeps_the_expiry_and_checks_overflow() {
    let db = Db::new(4);
    assert_eq!(db.incr_by(b"n", 5), Ok(5));
    assert_eq!(db.incr_by(b"n", -7), Ok(-2));
    let later = Instant::now() + Duration::from_secs(100);
    assert!(db.expire(b"n", Some(later)));
    assert_eq!(db.incr_by(b"n", 1), Ok(-1));
    assert!(matches!(db.ttl(b"n"), Ttl::Millis(ms) if ms > 90_000));
    assert_eq!(db.incr_by(b"n", i64::MIN), Err(IncrError::Overflow));
    db.set(b"s", b"abc", Condition::Always, Expiry::Never, |_| {});
    assert_eq!(db.incr_by(b"s", 1), Err(IncrError::NotAnInteger));
}

#[test]
fn expired_keys_are_missing_and_swept() {
    let db = Db::new(8);
    let past = Instant::now();
    for i in 0..100u32 {
        let key = i.to_string();
        let expiry = if i % 2 == 0 {
            Expiry::At(past)
        } else {
            Expiry::Never
        };
        db.set(key.as_bytes(), b"v", Condition::Always, expiry, |_| {});
    }
    assert!(!db.exists(b"0"));
    assert_eq!(db.ttl(b"0"), Ttl::Missing);
    assert_eq!(db.ttl(b"1"), Ttl::Persistent);
    let mut cursor = 0;
    // "0" went lazily; the sweep takes the other 49.
    assert_eq!(db.sweep(&mut cursor, db.shard_count()), 49);
    assert_eq!(db.len(), 50);
    assert_eq!(db.sweep(&mut cursor, db.shard_count()), 0);
}

#[test]
fn multi_key_commands_lock_each_shard_once() {
    let db = Db::new(4);
    let keys: Vec<Vec<u8>> = (0..64u32).map(|i| i.to_string().into_bytes()).collect();
    db.set_many(keys.iter().map(|k| (&k[..], &k[..])));
    let mut values = Vec::new();
    db.get_many(keys.iter().map(|k| &k[..]).chain([&b"none"[..]]), |v| {
        values.push(v.map(<[u8]>::to_vec))
    });
    assert_eq!(values.len(), 65);
    assert!(values[..64]
        .iter()
        .zip(&keys)
        .all(|(v, k)| v.as_ref() == Some(k)));
    assert_eq!(values[64], None);
    db.flush();
    assert_eq!(db.len(), 0);
}
