package intake_test

import (
	"encoding/base64"
	"testing"

	gpp "github.com/prebid/go-gpp"
	"github.com/prebid/go-gpp/constants"
	"github.com/prebid/go-gpp/sections"
	"github.com/prebid/go-gpp/sections/uspca"
	"github.com/prebid/go-gpp/sections/uspnat"
	"github.com/prebid/go-gpp/sections/uspva"
)

// bitWriter writes big-endian bit fields, as TC strings lay them out.
// It exists because github.com/prebid/go-gdpr decodes TC strings but has
// no encoder; GPP strings are encoded with go-gpp's own encoder.
type bitWriter struct {
	buf []byte
	n   int // bits written
}

func (w *bitWriter) write(v uint64, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.buf[w.n/8] |= 0x80 >> uint(w.n%8)
		}
		w.n++
	}
}

// tcString encodes a TCF v2 core string (IAB TCF "TC string" format, core
// segment) with the given purposes consented, the vendor list version and
// TC string version, and no vendors.
func tcString(purposes []int, vendorList, version int) string {
	w := &bitWriter{}
	w.write(uint64(version), 6)
	w.write(17_000_000_000, 36) // Created, deciseconds
	w.write(17_000_000_000, 36) // LastUpdated
	w.write(300, 12)            // CmpId
	w.write(2, 12)              // CmpVersion
	w.write(1, 6)               // ConsentScreen
	w.write(4<<6|13, 12)        // ConsentLanguage "EN"
	w.write(uint64(vendorList), 12)
	w.write(4, 6)  // TcfPolicyVersion
	w.write(0, 1)  // IsServiceSpecific
	w.write(0, 1)  // UseNonStandardTexts
	w.write(0, 12) // SpecialFeatureOptIns
	var consents uint64
	for _, p := range purposes {
		consents |= 1 << uint(24-p)
	}
	w.write(consents, 24)
	w.write(0, 24)       // PurposesLITransparency
	w.write(0, 1)        // PurposeOneTreatment
	w.write(4<<6|13, 12) // PublisherCC
	w.write(0, 16)       // vendor consents: MaxVendorId
	w.write(0, 1)        // bit field
	w.write(0, 16)       // vendor legitimate interests: MaxVendorId
	w.write(0, 1)        // bit field
	w.write(0, 12)       // NumPubRestrictions
	return base64.RawURLEncoding.EncodeToString(w.buf)
}

// usNat is a US National (section 7, version 1) core segment in which the
// visitor did not opt out of anything and consented to nothing sensitive.
func usNat() uspnat.USPNATCoreSegment {
	return uspnat.USPNATCoreSegment{Version: 1, SharingNotice: 1, SaleOptOutNotice: 1, SharingOptOutNotice: 1,
		TargetedAdvertisingOptOutNotice: 1, SaleOptOut: 2, SharingOptOut: 2, TargetedAdvertisingOptOut: 2,
		SensitiveDataProcessing: make([]byte, 12), KnownChildSensitiveDataConsents: make([]byte, 2)}
}

// encodeGPP encodes sections into a GPP string with go-gpp's encoder.
func encodeGPP(t testing.TB, secs ...gpp.Section) string {
	t.Helper()
	s, err := gpp.Encode(secs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func natSection(c uspnat.USPNATCoreSegment, gpc bool) gpp.Section {
	return uspnat.USPNAT{SectionID: constants.SectionUSPNAT, CoreSegment: c,
		GPCSegment: sections.CommonUSGPCSegment{SubsectionType: 1, Gpc: gpc}}
}

func caSection(sale, sharing byte, sensitive []byte) gpp.Section {
	return uspca.USPCA{SectionID: constants.SectionUSPCA, CoreSegment: uspca.USPCACoreSegment{Version: 1,
		SaleOptOutNotice: 1, SharingOptOutNotice: 1, SaleOptOut: sale, SharingOptOut: sharing,
		SensitiveDataProcessing: sensitive, KnownChildSensitiveDataConsents: make([]byte, 2)},
		GPCSegment: sections.CommonUSGPCSegment{SubsectionType: 1}}
}

func vaSection(targeted byte, sensitive []byte) gpp.Section {
	return uspva.USPVA{SectionID: constants.SectionUSPVA, CoreSegment: sections.CommonUSCoreSegment{Version: 1,
		SharingNotice: 1, TargetedAdvertisingOptOutNotice: 1, SaleOptOut: 2, TargetedAdvertisingOptOut: targeted,
		SensitiveDataProcessing: sensitive, KnownChildSensitiveDataConsents: make([]byte, 1)}}
}

// uspSection is a US Privacy (CCPA) string as GPP section 6, which go-gpp
// carries as plain text (it has no type of its own for it).
type uspSection string

func (u uspSection) GetID() constants.SectionID { return constants.SectionUSPV1 }
func (u uspSection) GetValue() string           { return string(u) }
func (u uspSection) Encode(bool) []byte         { return []byte(u) }
