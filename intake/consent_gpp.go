package intake

import (
	"errors"
	"fmt"
	"math"
	"strings"

	gpp "github.com/prebid/go-gpp"
	"github.com/prebid/go-gpp/constants"
	"github.com/prebid/go-gpp/sections"
	"github.com/prebid/go-gpp/sections/uspca"
	"github.com/prebid/go-gpp/sections/uspco"
	"github.com/prebid/go-gpp/sections/uspct"
	"github.com/prebid/go-gpp/sections/uspnat"
	"github.com/prebid/go-gpp/sections/usput"
	"github.com/prebid/go-gpp/sections/uspva"
	"github.com/prebid/go-gpp/util"
)

// The values of a GPP US opt-out or sensitive-data field (IAB GPP US
// sections): 0 not applicable, 1 opted out / no consent, 2 did not opt
// out / consent; 3 is not defined.
const (
	gppNotApplicable = 0
	gppOptedOut      = 1
	gppConsented     = 2
)

// gppVerdict is what the applicable US sections of a GPP string say.
type gppVerdict struct {
	// advertising: no section records an opt-out of sale, sharing or
	// targeted advertising (nor a GPC signal), and each section's field
	// for what tally feeds (targeted advertising; sharing in California)
	// says "did not opt out".
	advertising bool
	// health: each section's health sensitive-data field says "consent".
	health bool
}

// usSection is the part of a US section the verdict reads.
type usSection struct {
	// optOuts are the section's sale, sharing and targeted-advertising
	// opt-out fields; adField is the one covering ad measurement.
	optOuts []byte
	adField byte
	// health is the sensitive-data field for health, gpc the GPC subsection.
	health byte
	gpc    bool
}

// readGPP decodes a GPP string with github.com/prebid/go-gpp and reads the
// US National and state sections (ids 7-12) listed in sids, the CMP's
// applicable sections. A section id in sids that the string does not
// carry, a listed section that does not decode, or no listed section tally
// reads is an error: nothing then says what the visitor chose.
//
// The TCF EU section (id 2), when applicable, is a TC string and is read
// as tcf is, with tcfPurposes; it says nothing about health data.
func readGPP(s string, sids []int, tcfPurposes []int) (gppVerdict, error) {
	c, errs := parseGPP(s)
	if len(errs) > 0 {
		return gppVerdict{}, errors.Join(errs...)
	}
	byID := map[int]gpp.Section{}
	for _, sec := range c.Sections {
		byID[int(sec.GetID())] = sec
	}
	v := gppVerdict{advertising: true, health: true}
	read, restricts := 0, 0
	for _, id := range sids {
		sec, ok := byID[id]
		if !ok {
			return gppVerdict{}, fmt.Errorf("gpp_sid names section %d, which the string does not carry", id)
		}
		if sec.GetID() == constants.SectionTCFEU2 {
			granted, err := readTCF(sec.GetValue(), tcfPurposes)
			if err != nil {
				return gppVerdict{}, fmt.Errorf("section 2: %w", err)
			}
			v.advertising = v.advertising && granted
			v.health = false
			read++
			continue
		}
		if sec.GetID() == constants.SectionUSPV1 {
			optedOut, err := readUSPrivacy(sec.GetValue())
			if err != nil {
				return gppVerdict{}, fmt.Errorf("section 6: %w", err)
			}
			if optedOut {
				v.advertising = false
				restricts++
			}
			continue
		}
		us, ok, err := usFields(sec)
		if err != nil {
			return gppVerdict{}, err
		}
		if !ok {
			continue // a section tally does not read (TCF EU, Canada, ...)
		}
		read++
		for _, f := range us.optOuts {
			if f == gppOptedOut {
				v.advertising = false
			}
		}
		if us.adField != gppConsented || us.gpc {
			v.advertising = false
		}
		if us.health != gppConsented {
			v.health = false
		}
	}
	if read == 0 && restricts == 0 {
		return gppVerdict{}, errors.New("gpp_sid lists no section tally reads (TCF EU 2, US Privacy 6, US National 7, US states 8-12)")
	}
	if read == 0 {
		// Only a US Privacy opt-out: a withdrawal, and nothing granted.
		return gppVerdict{}, nil
	}
	return v, nil
}

// readUSPrivacy reads a US Privacy (CCPA) string, GPP section 6: four
// characters, version "1", then notice, opt-out of sale and LSPA, each
// Y, N or "-". It can only restrict: "Y" in the opt-out position is an
// opt-out of sale, which withdraws whatever the other applicable sections
// grant (sources that disagree fail closed); it never grants by itself,
// since it has no field for targeted advertising or health data.
func readUSPrivacy(s string) (optedOut bool, err error) {
	if len(s) != 4 || s[0] != '1' {
		return false, errors.New("a US Privacy string is 4 characters starting with version 1")
	}
	for _, c := range s[1:] {
		if c != 'Y' && c != 'N' && c != '-' {
			return false, fmt.Errorf("a US Privacy string holds Y, N or - after its version")
		}
	}
	return s[2] == 'Y', nil
}

// parseGPP runs the library's parser once the header's section ranges
// are known to be sane; a panic inside it (a string it did not foresee)
// is an error like any other.
func parseGPP(s string) (c gpp.GppContainer, errs []error) {
	defer func() {
		if r := recover(); r != nil {
			errs = []error{errors.New("the string could not be decoded")}
		}
	}()
	if err := checkGPPHeader(s); err != nil {
		return gpp.GppContainer{}, []error{err}
	}
	return gpp.Parse(s)
}

// checkGPPHeader reads the header's section ids before go-gpp does, with
// bounds v0.2.0 lacks (both found by FuzzConsentStrings): its Fibonacci
// decoder computes fibonacci(i) by plain recursion, so a long run of zero
// bits takes exponential time, and it counts each range up with a uint16,
// so a range ending at id 65535 never ends. Here a Fibonacci code may be
// at most maxFibBits long (enough for any uint16), ids stay below 65535,
// and the ranges must add up to the sections the string carries. The
// reading mirrors go-gpp's util.ReadFibonacciRange bit for bit, so the
// library then reads the same bounded codes.
func checkGPPHeader(s string) error {
	header, _, _ := strings.Cut(s, "~")
	bs, err := util.NewBitStreamFromBase64(header)
	if err != nil || bs.Len() < gpp.MaxHeaderLength || header[0] != gpp.SectionGPPByte {
		return nil // gpp.Parse gives the reason
	}
	bad := errors.New("error parsing GPP header, section ids out of bounds")
	bs.SetPosition(12) // type and version
	entries, err := bs.ReadUInt12()
	if err != nil {
		return nil
	}
	want, n, max := strings.Count(s, "~"), 0, 0
	for i := 0; i < int(entries); i++ {
		isRange, err := bs.ReadByte1()
		if err != nil {
			return nil
		}
		first, ok := readFib(bs)
		if !ok {
			return bad
		}
		start, end := max+first, max+first
		if isRange == 1 {
			second, ok := readFib(bs)
			if !ok {
				return bad
			}
			end = start + second
		}
		if end >= math.MaxUint16 {
			return bad
		}
		if end > max {
			max = end
		}
		if n += end - start + 1; n > want {
			break
		}
	}
	if n != want {
		return fmt.Errorf("error parsing GPP header, section IDs do not match the number of sections: have %d sections", want)
	}
	return nil
}

// maxFibBits bounds a Fibonacci code: 24 bits encode more than 65535.
const maxFibBits = 24

// readFib reads one Fibonacci-coded integer as go-gpp does; ok=false for a
// code longer than maxFibBits or cut short.
func readFib(bs *util.BitStream) (int, bool) {
	fib := []int{0, 1, 1}
	last, err := bs.ReadByte1()
	if err != nil {
		return 0, false
	}
	next, err := bs.ReadByte1()
	if err != nil {
		return 0, false
	}
	v := int(last)
	for i := 3; last == 0 || next == 0; i++ {
		if i > maxFibBits {
			return 0, false
		}
		fib = append(fib, fib[i-1]+fib[i-2])
		last = next
		if next, err = bs.ReadByte1(); err != nil {
			return 0, false
		}
		if last == 1 {
			v += fib[i]
		}
	}
	return v, true
}

// usFields reads a US section; ok=false for a section that is not one.
// Health is the sensitive-data field "consumer's health" of each section's
// IAB specification (US National field 3, California 8, Virginia,
// Colorado and Connecticut 3, Utah 5, counted from 1; US National,
// California, Virginia and Utah checked against the specification texts). Only version 1 of
// each section is read (go-gpp v0.2.0 parses no other layout), and US
// National version 2, which readUSNat2 reads.
func usFields(sec gpp.Section) (usSection, bool, error) {
	version := func(v byte) error {
		if v != 1 {
			return fmt.Errorf("section %d version %d is not read (only version 1, and 2 of US National)", int(sec.GetID()), v)
		}
		return nil
	}
	common := func(c sections.CommonUSCoreSegment, health int, gpc bool) (usSection, bool, error) {
		return usSection{optOuts: []byte{c.SaleOptOut, c.TargetedAdvertisingOptOut}, adField: c.TargetedAdvertisingOptOut,
			health: field(c.SensitiveDataProcessing, health), gpc: gpc}, true, version(c.Version)
	}
	switch s := sec.(type) {
	case uspnat.USPNAT:
		c := s.CoreSegment
		if c.Version == usNat2Version { // go-gpp read it with version 1's layout
			us, err := readUSNat2(s.Value)
			return us, true, err
		}
		return usSection{optOuts: []byte{c.SaleOptOut, c.SharingOptOut, c.TargetedAdvertisingOptOut}, adField: c.TargetedAdvertisingOptOut,
			health: field(c.SensitiveDataProcessing, 3), gpc: s.GPCSegment.Gpc}, true, version(c.Version)
	case uspca.USPCA:
		c := s.CoreSegment
		// California has no targeted-advertising field: its "sharing" is
		// sharing for cross-context behavioral advertising.
		return usSection{optOuts: []byte{c.SaleOptOut, c.SharingOptOut}, adField: c.SharingOptOut,
			health: field(c.SensitiveDataProcessing, 8), gpc: s.GPCSegment.Gpc}, true, version(c.Version)
	case uspva.USPVA:
		return common(s.CoreSegment, 3, false)
	case uspco.USPCO:
		return common(s.CoreSegment, 3, s.GPCSegment.Gpc)
	case uspct.USPCT:
		return common(s.CoreSegment, 3, s.GPCSegment.Gpc)
	case usput.USPUT:
		c := s.CoreSegment
		return usSection{optOuts: []byte{c.SaleOptOut, c.TargetedAdvertisingOptOut}, adField: c.TargetedAdvertisingOptOut,
			health: field(c.SensitiveDataProcessing, 5)}, true, version(c.Version)
	}
	if id := sec.GetID(); id >= constants.SectionUSPNAT && id <= constants.SectionUSPCT {
		return usSection{}, false, fmt.Errorf("section %d could not be decoded", int(id))
	}
	return usSection{}, false, nil
}

// field is the n-th (from 1) value of a field list, or not applicable.
func field(vals []byte, n int) byte {
	if n < 1 || n > len(vals) {
		return gppNotApplicable
	}
	return vals[n-1]
}
