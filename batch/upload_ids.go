package batch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/tally-health/tally"
)

// idVersion separates these keyed ids from every other use of the key, and
// lets a later format change without colliding.
const idVersion = "tally.upload.v1"

// Labels of the keyed ids, so an event id and an external id of the same
// conversion never coincide.
const (
	labelEvent    = "event"
	labelExternal = "external"
	labelChunk    = "chunk"
)

// ider derives keyed ids from conversion coordinates. It is not safe for
// concurrent use: each platform's goroutine has its own.
type ider struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

func newIder(key []byte) *ider { return &ider{mac: hmac.New(sha256.New, key)} }

// id is HMAC-SHA256(key, version, label, platform, day, campaign,
// conversion, i), 128 bits in hex. NUL separators keep the fields apart.
func (d *ider) id(label string, platform tally.Platform, day tally.Day, campaign, conversion string, i int) string {
	b := d.buf[:0]
	for _, s := range [...]string{idVersion, label, string(platform), string(day), campaign, conversion} {
		b = append(b, s...)
		b = append(b, 0)
	}
	b = strconv.AppendInt(b, int64(i), 10)
	d.buf = b
	d.mac.Reset()
	d.mac.Write(b)
	d.sum = d.mac.Sum(d.sum[:0])
	return hex.EncodeToString(d.sum[:16])
}

// EventID returns the keyed event id of conversion i of a cell on platform.
func EventID(key []byte, platform tally.Platform, day tally.Day, campaign, conversion string, i int) string {
	return newIder(key).id(labelEvent, platform, day, campaign, conversion, i)
}

// EventTime is the fixed time of every synthetic conversion of day: 12:00
// in the rollup timezone. No real event time ever leaves.
func EventTime(day tally.Day, loc *time.Location) (time.Time, error) {
	d, err := tally.ParseDay(string(day))
	if err != nil {
		return time.Time{}, fmt.Errorf("event time: %w", err)
	}
	return d.Noon(loc), nil
}
