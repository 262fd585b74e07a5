package session

import (
	"encoding/binary"
	"errors"
	"time"
)

// The binary encoding of a Session (format 1). It is compact, because it
// ends up in a 4 KB cookie, and hand-written rather than JSON or gob, so its
// decoder is small enough to read in one sitting and to fuzz (FuzzDecode).
//
//	session = version:byte(1)
//	          str(ID) str(User) str(Email) str(PreferredUsername)
//	          uvarint(len(Groups)) str(group)...
//	          str(IDToken) str(AccessToken) str(RefreshToken)
//	          time(CreatedAt) time(ExpiresOn) time(RefreshedAt)
//	str     = uvarint(len) bytes
//	time    = 0x00                                  the zero time.Time
//	        | 0x01 varint(unix seconds) uvarint(nanoseconds < 1e9)
//
// The decoder is strict: it accepts exactly what the encoder produces
// (minimal varints, no trailing bytes, a non-zero time only after 0x01), so
// every accepted input re-encodes to the same bytes. Decoded times are in
// UTC and carry no monotonic reading; a nil and an empty Groups both encode
// as zero groups and decode as nil.
//
// A later format appends fields and bumps the version; the decoder then
// accepts both.
const (
	formatVersion byte = 1
	timeZero      byte = 0
	timeSet       byte = 1
)

var errMalformed = errors.New("malformed session encoding")

// AppendBinary appends the encoding of s to b (encoding.BinaryAppender).
func (s *Session) AppendBinary(b []byte) ([]byte, error) {
	return s.appendBinary(b), nil
}

// MarshalBinary returns the encoding of s (encoding.BinaryMarshaler).
func (s *Session) MarshalBinary() ([]byte, error) {
	return s.appendBinary(make([]byte, 0, s.binarySize())), nil
}

// UnmarshalBinary sets s from its encoding (encoding.BinaryUnmarshaler).
// It copies data once; the strings of s share that copy.
func (s *Session) UnmarshalBinary(data []byte) error {
	return s.decode(string(data))
}

func (s *Session) binarySize() int {
	n := 1 + strSize(s.ID) + strSize(s.User) + strSize(s.Email) + strSize(s.PreferredUsername)
	n += uvarintSize(uint64(len(s.Groups)))
	for _, g := range s.Groups {
		n += strSize(g)
	}
	n += strSize(s.IDToken) + strSize(s.AccessToken) + strSize(s.RefreshToken)
	n += timeSize(s.CreatedAt) + timeSize(s.ExpiresOn) + timeSize(s.RefreshedAt)
	return n
}

func (s *Session) appendBinary(b []byte) []byte {
	b = append(b, formatVersion)
	b = appendStr(b, s.ID)
	b = appendStr(b, s.User)
	b = appendStr(b, s.Email)
	b = appendStr(b, s.PreferredUsername)
	b = binary.AppendUvarint(b, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		b = appendStr(b, g)
	}
	b = appendStr(b, s.IDToken)
	b = appendStr(b, s.AccessToken)
	b = appendStr(b, s.RefreshToken)
	b = appendTime(b, s.CreatedAt)
	b = appendTime(b, s.ExpiresOn)
	b = appendTime(b, s.RefreshedAt)
	return b
}

// decode sets s from data, which must hold exactly one encoded session. The
// strings of s are substrings of data, so decoding allocates only the
// Groups slice.
func (s *Session) decode(data string) error {
	d := decoder{rest: data}
	if d.byte() != formatVersion {
		return errMalformed
	}
	var out Session
	out.ID = d.str()
	out.User = d.str()
	out.Email = d.str()
	out.PreferredUsername = d.str()
	// Every group takes at least one byte, so a count larger than what is
	// left is malformed; checking first keeps a forged count from making us
	// allocate more than the input's size.
	if n := d.uvarint(); n > uint64(len(d.rest)) {
		d.fail()
	} else if n > 0 {
		out.Groups = make([]string, n)
		for i := range out.Groups {
			out.Groups[i] = d.str()
		}
	}
	out.IDToken = d.str()
	out.AccessToken = d.str()
	out.RefreshToken = d.str()
	out.CreatedAt = d.time()
	out.ExpiresOn = d.time()
	out.RefreshedAt = d.time()
	if d.bad || d.rest != "" {
		return errMalformed
	}
	*s = out
	return nil
}

// decoder reads the encoding from a string. After the first error it
// returns zero values and stays failed, so callers check bad once at the
// end.
type decoder struct {
	rest string
	bad  bool
}

func (d *decoder) fail() {
	d.bad = true
	d.rest = ""
}

func (d *decoder) byte() byte {
	if d.rest == "" {
		d.fail()
		return 0
	}
	b := d.rest[0]
	d.rest = d.rest[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	v, n := uvarintString(d.rest)
	if n <= 0 || n != uvarintSize(v) { // truncated, overflowing or not minimal
		d.fail()
		return 0
	}
	d.rest = d.rest[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.rest)) {
		d.fail()
		return ""
	}
	s := d.rest[:n]
	d.rest = d.rest[n:]
	return s
}

func (d *decoder) time() time.Time {
	switch d.byte() {
	case timeZero:
		return time.Time{}
	case timeSet:
		u := d.uvarint()
		sec := int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.Varint
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.fail()
			return time.Time{}
		}
		t := time.Unix(sec, int64(nsec)).UTC()
		if t.IsZero() { // the zero time has its own encoding
			d.fail()
			return time.Time{}
		}
		return t
	default:
		d.fail()
		return time.Time{}
	}
}

// uvarintString is binary.Uvarint for a string, so decoding needs no
// []byte copy of its input.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1) // overflow
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

func uvarintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func strSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func timeSize(t time.Time) int {
	if t.IsZero() {
		return 1
	}
	return 1 + uvarintSize(zigzag(t.Unix())) + uvarintSize(uint64(t.Nanosecond()))
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, timeZero)
	}
	b = append(b, timeSet)
	b = binary.AppendUvarint(b, zigzag(t.Unix()))
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}
