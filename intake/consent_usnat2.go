package intake

import (
	"errors"
	"fmt"
	"strings"
)

// The US National section (GPP section id 7) version 2 core segment, as
// the IAB's own library writes it (@iabgpp/cmpapi 3.2.0,
// src/encoder/segment/UsNatCoreSegment.ts, with UsNat.VERSION = 2): the
// fields of version 1 in the same order, but SensitiveDataProcessing holds
// 16 two-bit fields instead of 12 and KnownChildSensitiveDataConsents 3
// instead of 2. The library's upgrade of a version 1 string inserts the
// new fields after the twelfth and the second, so fields 1-12 (health is
// 3) keep their meaning. go-gpp v0.2.0 reads only version 1.
const (
	usNat2Version = 2
	// Bit offsets (from 0) of the fields tally reads: version Int(6), six
	// notices Int(2), then the three opt-outs, then the sensitive fields.
	usNat2SaleOptOut       = 18
	usNat2SharingOptOut    = 20
	usNat2TargetedAdOptOut = 22
	usNat2Sensitive        = 24
	// usNat2Bits is the whole core: 6 + 6*2 + 3*2 + 16*2 + 3*2 + 4*2.
	usNat2Bits = 70
	// usNat2Chars is that core in base64url: the encoder pads 70 bits to
	// whole bytes (72), which are 12 characters.
	usNat2Chars = 12
)

// base64URL is the GPP alphabet; each character carries 6 bits.
const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// readUSNat2 reads a US National version 2 section value (core segment,
// optionally "." and the GPC sub-section) into what the verdict needs. A
// core that is not exactly the 12 characters of version 2, a character
// outside base64url, a GPC sub-section that is empty, cut short or of
// another type, or a third segment is an error: nothing is read from a
// string that is not whole.
func readUSNat2(value string) (usSection, error) {
	segs := strings.Split(value, ".")
	if len(segs) > 2 {
		return usSection{}, fmt.Errorf("section 7 version 2: %d segments, want a core and at most a GPC sub-section", len(segs))
	}
	if len(segs[0]) != usNat2Chars {
		return usSection{}, fmt.Errorf("section 7 version 2: core segment of %d characters, want %d (%d bits)", len(segs[0]), usNat2Chars, usNat2Bits)
	}
	core, err := base64Bits(segs[0])
	if err != nil {
		return usSection{}, fmt.Errorf("section 7 version 2: core segment: %w", err)
	}
	if v := core.read(0, 6); v != usNat2Version {
		return usSection{}, fmt.Errorf("section 7: version %d is not version 2", v)
	}
	// Value 3 is defined for none of these fields; the IAB encoder refuses
	// to write it, so a string carrying it is not one a CMP made.
	var f [4]byte
	for i, at := range []int{usNat2SaleOptOut, usNat2SharingOptOut, usNat2TargetedAdOptOut, usNat2Sensitive + 2*(usNatHealth-1)} {
		if f[i] = byte(core.read(at, 2)); f[i] == 3 {
			return usSection{}, fmt.Errorf("section 7 version 2: undefined value 3 at bit %d", at)
		}
	}
	us := usSection{optOuts: f[:3], adField: f[2], health: f[3]}
	if len(segs) == 2 {
		gpc, err := base64Bits(segs[1])
		if err != nil {
			return usSection{}, fmt.Errorf("section 7 version 2: GPC sub-section: %w", err)
		}
		// SubsectionType Int(2) = 1, then Gpc Boolean.
		if len(gpc) < 3 {
			return usSection{}, errors.New("section 7 version 2: GPC sub-section cut short")
		}
		if t := gpc.read(0, 2); t != 1 {
			return usSection{}, fmt.Errorf("section 7 version 2: GPC sub-section of type %d, want 1", t)
		}
		us.gpc = gpc.read(2, 1) == 1
	}
	return us, nil
}

// usNatHealth is the health field of SensitiveDataProcessing, from 1, in
// both versions of US National.
const usNatHealth = 3

// bits is a base64url string decoded to one bit per byte: a GPP segment
// is a few dozen bits, and a flat slice makes every read's bound plain.
type bits []byte

// base64Bits decodes s; an empty string or a character outside the
// alphabet (padding included) is an error.
func base64Bits(s string) (bits, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	b := make(bits, 0, 6*len(s))
	for i := 0; i < len(s); i++ {
		n := strings.IndexByte(base64URL, s[i])
		if n < 0 {
			return nil, fmt.Errorf("character %q at %d is not base64url", s[i], i)
		}
		for k := 5; k >= 0; k-- {
			b = append(b, byte(n>>k)&1)
		}
	}
	return b, nil
}

// read is the n-bit big-endian integer at bit offset at. The callers check
// the length first; a read past the end panics rather than invent bits.
func (b bits) read(at, n int) int {
	v := 0
	for _, bit := range b[at : at+n] {
		v = v<<1 | int(bit)
	}
	return v
}
