// Package batch holds tally's scheduled work on the store: sealing finished
// days and rolling them up through the release gate (Roller, Gate), drawing
// noise once (GeometricNoise), purging events past retention (Purge), and
// delivering released counts to the ad platforms (Deliver).
//
// Every job takes its clock as a Now func so that "which days are due" is
// tested without sleeping and can be evaluated as of another instant.
package batch
