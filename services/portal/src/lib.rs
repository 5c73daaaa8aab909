//! The dualreport portal (门户): what people look at in a browser.
//!
//! - The public vanguard board (先锋榜公示) of a community, street, district or
//!   the city, read with the portal's own `public` credential, which the
//!   services let read published boards and nothing else.
//! - For signed-in admins (the city's identity provider, OIDC authorization
//!   code flow with PKCE; a development login locally), a dashboard of their
//!   scope: report rates, the stars distribution, compliance warnings and the
//!   outbox and feed health, as charts. Every read goes with the admin's own
//!   token, so the services' scope checks decide what the page shows.
//!
//! Pages are rendered on the server as HTML with inline SVG charts and no
//! script, so they work on a phone, on a wall screen and under a strict
//! Content-Security-Policy. The portal keeps no state: sessions live in a
//! signed token in an HttpOnly cookie, so any replica serves any request.

pub mod html;
pub mod pages;
pub mod session;
pub mod settings;
pub mod startup;
pub mod svg;
pub mod upstream;
