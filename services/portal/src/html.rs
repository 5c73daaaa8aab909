//! HTML by hand: one escape, one page layout, one set of response headers.
//! Every value that reaches a page passes [`esc`]; there is no script.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value.
pub fn query_value(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const STYLE: &str = r#"
:root { --red: #c8161d; --gold: #f5b400; --ink: #222; --muted: #666; --line: #e5e5e5; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--ink); background: #fafafa; }
header { background: var(--red); color: #fff; padding: .8rem 1rem; display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; }
header a { color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h2 { color: var(--red); border-bottom: 2px solid var(--red); padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid var(--line); padding: .5rem; text-align: left; }
th { background: #fdf2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.stars svg { vertical-align: middle; }
svg.chart { max-width: 44rem; display: block; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; }
.muted { color: var(--muted); }
.error { border-left: 4px solid var(--red); background: #fff5f5; padding: .8rem 1rem; }
.qr { float: right; margin: 0 0 1rem 1rem; text-align: center; font-size: .8rem; }
.qr svg { width: 8rem; height: 8rem; }
nav.pages { margin: 1rem 0; }
form.inline { display: inline; }
button, input, select { font: inherit; padding: .3rem .6rem; }
@media (max-width: 40rem) { .qr { float: none; margin: 0 auto 1rem; } th.hide-narrow, td.hide-narrow { display: none; } }
@media (min-width: 100rem) { body { font-size: 1.5rem; } main { max-width: 140rem; } .qr svg { width: 14rem; height: 14rem; } }
"#;

/// A whole page: the heading, who is signed in (if anyone) and `body`.
pub fn page(title: &str, site: &str, signed_in: Option<&str>, body: &str) -> String {
    let account = match signed_in {
        Some(who) => format!(
            r#"<span>{} · <a href="/admin">管理看板</a> <form class="inline" method="post" action="/logout"><button type="submit">退出</button></form></span>"#,
            esc(who)
        ),
        None => r#"<a href="/login" id="login">管理员登录</a>"#.to_owned(),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1><a href="/">{site}</a></h1>{account}</header>
<main>
{body}
</main>
</body>
</html>
"#,
        title = esc(title),
        site = esc(site),
    )
}

/// An HTML response with the portal's security headers: no script, no
/// framing, nothing loaded from elsewhere.
pub fn respond(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error page: what happened, in words, with the status it is.
pub fn error_page(status: StatusCode, site: &str, signed_in: Option<&str>, heading: &str, detail: &str) -> Response {
    let body = format!(
        r#"<div class="error" id="refusal"><h2>{}</h2><p>{}</p></div>"#,
        esc(heading),
        esc(detail)
    );
    respond(status, page(heading, site, signed_in, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(query_value("a b/社"), "a%20b%2F%E7%A4%BE");
    }
}
