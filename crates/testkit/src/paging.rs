//! Walking a List (AIP-158) the way a client does, to show it pages.

use std::collections::HashSet;
use std::future::Future;

/// Walks `list(page_size, token) -> (keys, next token)` two at a time to its
/// last page and returns the keys: every page holds at most two, no key
/// comes twice, and the walk gives exactly what one page of 500 gives, in
/// the same order.
pub async fn walk<F, Fut>(what: &str, mut list: F) -> Vec<String>
where
    F: FnMut(i32, String) -> Fut,
    Fut: Future<Output = (Vec<String>, String)>,
{
    let (all, next) = list(500, String::new()).await;
    assert!(next.is_empty(), "{what}: everything fits one page of 500");
    let mut walked = Vec::new();
    let mut token = String::new();
    for _ in 0..1000 {
        let (keys, next) = list(2, token).await;
        assert!(keys.len() <= 2, "{what}: a page holds at most page_size items");
        walked.extend(keys);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: no item twice");
    assert_eq!(walked, all, "{what}: the pages give every item once, in order");
    walked
}
