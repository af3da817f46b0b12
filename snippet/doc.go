// Package snippet serves tally.js, the first-party browser script a website
// includes to record consent and track conversions through tally's intake.
//
// The script is kept readable in this package (tally.js) and embedded into
// the binary; no build step, no third-party code. What it sends, and what it
// never sends, is described in docs/SNIPPET.md.
package snippet
