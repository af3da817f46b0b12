package tally

import "fmt"

// Platform is the ad platform an event is attributed to and its counts
// are uploaded to.
type Platform string

// The platforms. PlatformNone is the platform of an event whose source maps
// to no ad platform: it is counted and exported, never uploaded.
const (
	PlatformMeta     Platform = "meta"
	PlatformGoogle   Platform = "google"
	PlatformTikTok   Platform = "tiktok"
	PlatformLinkedIn Platform = "linkedin"
	PlatformNone     Platform = "none"
)

// UploadPlatforms lists the platforms that have an uploader, in a fixed order.
var UploadPlatforms = []Platform{PlatformMeta, PlatformGoogle, PlatformTikTok, PlatformLinkedIn}

// Valid reports whether p is one of the platforms (PlatformNone included).
func (p Platform) Valid() bool {
	switch p {
	case PlatformMeta, PlatformGoogle, PlatformTikTok, PlatformLinkedIn, PlatformNone:
		return true
	}
	return false
}

// Uploaded reports whether p has an uploader (every platform but
// PlatformNone).
func (p Platform) Uploaded() bool { return p.Valid() && p != PlatformNone }

// Cell is one (day, platform, campaign, conversion) coordinate: the unit
// that is counted, gated, released and uploaded. Campaign is "" when the
// event carried none; Conversion is a generic conversion name from
// intake.events, never the site's raw event name.
type Cell struct {
	Day        Day
	Platform   Platform
	Campaign   string
	Conversion string
}

// ParsePlatform checks s names a platform (PlatformNone included).
func ParsePlatform(s string) (Platform, error) {
	if p := Platform(s); p.Valid() {
		return p, nil
	}
	return "", fmt.Errorf("unknown platform %q: want meta, google, tiktok, linkedin or none", s)
}
