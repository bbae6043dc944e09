// Package qoe turns what players report about their own playback —
// CMCD (CTA-5004) dictionaries, in request mode on steering requests or
// in v2 event mode batches — into signals the health engine scores:
// per CDN and region, over a sliding window, in memory that does not
// grow with the audience.
package qoe

import "errors"

// This file is a strict parser of RFC 8941 structured-field
// dictionaries, the syntax of every CMCD payload. It allocates nothing:
// a Dict holds its members in fixed arrays, and strings, tokens and byte
// sequences are slices of the input, valid while the input is.

// ItemType is the type of a bare item.
type ItemType uint8

const (
	TypeInteger ItemType = iota + 1
	TypeDecimal
	TypeString
	TypeToken
	TypeBytes
	TypeBoolean
)

// Item is a bare item. Integers and booleans (0, 1) are in Int; a
// decimal is in Int in thousandths, exact for every decimal RFC 8941
// allows (at most three fractional digits). Strings (still escaped, as
// between the quotes), tokens and byte sequences (their base64 text) are
// in Raw.
type Item struct {
	Type ItemType
	// Escaped: a string holds backslash escapes (Unquote removes them).
	Escaped bool
	Int     int64
	Raw     []byte
}

// Param is one parameter of an item or an inner list.
type Param struct {
	Key   []byte
	Value Item
}

// span is a range of a Dict's items or params.
type span struct{ first, n uint16 }

// Member is one dictionary member: an item, or an inner list of items,
// with its parameters.
type Member struct {
	Key    []byte
	IsList bool
	Item   Item // when !IsList
	list   span
	params span
}

// listItem is an item of an inner list with its parameters.
type listItem struct {
	Item
	params span
}

// Bounds of what a Dict holds. A CMCD payload has a few dozen keys and
// short lists; a line past these is refused as too large, not parsed
// into memory that grows.
const (
	MaxMembers = 64
	MaxItems   = 64 // inner list items, over all the members
	MaxParams  = 64 // parameters, over all the members and items
)

// Dict is a parsed dictionary. Reuse one for every line: Parse resets it.
type Dict struct {
	members [MaxMembers]Member
	items   [MaxItems]listItem
	params  [MaxParams]Param
	n       int
	nItems  int
	nParams int
}

// Errors of Parse. Every malformed input is ErrSyntax; ErrTooLarge is
// well-formed input past the Dict's bounds.
var (
	ErrSyntax   = errors.New("structured field: malformed dictionary")
	ErrTooLarge = errors.New("structured field: too many members, items or parameters")
)

// Len is the number of members.
func (d *Dict) Len() int { return d.n }

// Member returns the i-th member, in the order of first appearance.
func (d *Dict) Member(i int) *Member { return &d.members[i] }

// List returns the i-th item of member m's inner list and its params.
func (d *Dict) ListLen(m *Member) int { return int(m.list.n) }

// ListItem returns the i-th item of m's inner list.
func (d *Dict) ListItem(m *Member, i int) *Item { return &d.items[int(m.list.first)+i].Item }

// ItemParams returns the parameters of the i-th item of m's inner list.
func (d *Dict) ItemParams(m *Member, i int) []Param {
	return d.paramSlice(d.items[int(m.list.first)+i].params)
}

// Params returns the parameters of member m (of its item, or of its
// inner list as a whole).
func (d *Dict) Params(m *Member) []Param { return d.paramSlice(m.params) }

func (d *Dict) paramSlice(s span) []Param {
	return d.params[s.first : int(s.first)+int(s.n)]
}

// Parse parses input as a dictionary into d. On error d is left empty.
func (d *Dict) Parse(input []byte) error {
	d.n, d.nItems, d.nParams = 0, 0, 0
	p := parser{d: d, b: input}
	if err := p.dictionary(); err != nil {
		d.n, d.nItems, d.nParams = 0, 0, 0
		return err
	}
	return nil
}

type parser struct {
	d *Dict
	b []byte
	i int
}

func (p *parser) peek() (byte, bool) {
	if p.i < len(p.b) {
		return p.b[p.i], true
	}
	return 0, false
}

func (p *parser) skipSP() {
	for p.i < len(p.b) && p.b[p.i] == ' ' {
		p.i++
	}
}

func (p *parser) skipOWS() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t') {
		p.i++
	}
}

// dictionary follows RFC 8941 4.2 (leading and trailing spaces
// discarded, as for a field value) and 4.2.2.
func (p *parser) dictionary() error {
	p.skipSP()
	for len(p.b) > 0 && p.b[len(p.b)-1] == ' ' {
		p.b = p.b[:len(p.b)-1]
	}
	for p.i < len(p.b) {
		key, err := p.key()
		if err != nil {
			return err
		}
		var m Member
		m.Key = key
		if c, _ := p.peek(); c == '=' {
			p.i++
			if err := p.itemOrList(&m); err != nil {
				return err
			}
		} else {
			m.Item = Item{Type: TypeBoolean, Int: 1}
			if m.params, err = p.parameters(); err != nil {
				return err
			}
		}
		if err := p.d.set(m); err != nil {
			return err
		}
		p.skipOWS()
		if p.i == len(p.b) {
			return nil
		}
		if p.b[p.i] != ',' {
			return ErrSyntax
		}
		p.i++
		p.skipOWS()
		if p.i == len(p.b) {
			return ErrSyntax // a trailing comma
		}
	}
	return nil
}

// set adds m, or overwrites the value of an earlier member with its key
// (the last one wins, in the place of the first).
func (d *Dict) set(m Member) error {
	for i := 0; i < d.n; i++ {
		if string(d.members[i].Key) == string(m.Key) {
			d.members[i] = m
			return nil
		}
	}
	if d.n == MaxMembers {
		return ErrTooLarge
	}
	d.members[d.n] = m
	d.n++
	return nil
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool   { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }

// tchar is RFC 9110's token character.
func isTChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func (p *parser) key() ([]byte, error) {
	start := p.i
	if c, ok := p.peek(); !ok || !(isLCAlpha(c) || c == '*') {
		return nil, ErrSyntax
	}
	p.i++
	for p.i < len(p.b) {
		c := p.b[p.i]
		if !(isLCAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.b[start:p.i], nil
}

func (p *parser) itemOrList(m *Member) error {
	var err error
	if c, _ := p.peek(); c == '(' {
		m.IsList = true
		if m.list, err = p.innerList(); err != nil {
			return err
		}
	} else if m.Item, err = p.bareItem(); err != nil {
		return err
	}
	m.params, err = p.parameters()
	return err
}

// innerList parses "(" items ")" into the Dict's items; the list's own
// parameters are the caller's.
func (p *parser) innerList() (span, error) {
	p.i++ // '('
	s := span{first: uint16(p.d.nItems)}
	for p.i < len(p.b) {
		p.skipSP()
		if c, ok := p.peek(); ok && c == ')' {
			p.i++
			return s, nil
		}
		it, err := p.bareItem()
		if err != nil {
			return s, err
		}
		params, err := p.parameters()
		if err != nil {
			return s, err
		}
		if p.d.nItems == MaxItems {
			return s, ErrTooLarge
		}
		p.d.items[p.d.nItems] = listItem{Item: it, params: params}
		p.d.nItems++
		s.n++
		if c, ok := p.peek(); !ok || c != ' ' && c != ')' {
			return s, ErrSyntax
		}
	}
	return s, ErrSyntax // no closing parenthesis
}

// parameters parses any ";key[=value]" following an item or a list. A
// repeated key overwrites the earlier value.
func (p *parser) parameters() (span, error) {
	s := span{first: uint16(p.d.nParams)}
	for p.i < len(p.b) && p.b[p.i] == ';' {
		p.i++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return s, err
		}
		v := Item{Type: TypeBoolean, Int: 1}
		if c, _ := p.peek(); c == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return s, err
			}
		}
		dup := false
		for j := int(s.first); j < int(s.first)+int(s.n); j++ {
			if string(p.d.params[j].Key) == string(key) {
				p.d.params[j].Value, dup = v, true
				break
			}
		}
		if dup {
			continue
		}
		if p.d.nParams == MaxParams {
			return s, ErrTooLarge
		}
		p.d.params[p.d.nParams] = Param{Key: key, Value: v}
		p.d.nParams++
		s.n++
	}
	return s, nil
}

func (p *parser) bareItem() (Item, error) {
	c, ok := p.peek()
	switch {
	case !ok:
		return Item{}, ErrSyntax
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return p.str()
	case isAlpha(c) || c == '*':
		return p.token()
	case c == ':':
		return p.bytes()
	case c == '?':
		return p.boolean()
	}
	return Item{}, ErrSyntax
}

// number follows RFC 8941 4.2.4: at most 15 digits for an integer, at
// most 12 before and 3 after the point for a decimal.
func (p *parser) number() (Item, error) {
	neg := false
	if p.b[p.i] == '-' {
		neg = true
		p.i++
	}
	if c, ok := p.peek(); !ok || !isDigit(c) {
		return Item{}, ErrSyntax
	}
	var whole, frac int64
	intDigits, fracDigits, decimal := 0, 0, false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case isDigit(c) && !decimal:
			if intDigits == 15 {
				return Item{}, ErrSyntax
			}
			whole = whole*10 + int64(c-'0')
			intDigits++
		case isDigit(c):
			if fracDigits == 3 {
				return Item{}, ErrSyntax
			}
			frac = frac*10 + int64(c-'0')
			fracDigits++
		case c == '.' && !decimal:
			if intDigits > 12 {
				return Item{}, ErrSyntax
			}
			decimal = true
		default:
			goto done
		}
		p.i++
	}
done:
	if !decimal {
		if neg {
			whole = -whole
		}
		return Item{Type: TypeInteger, Int: whole}, nil
	}
	if fracDigits == 0 {
		return Item{}, ErrSyntax // "1." has no fraction
	}
	for ; fracDigits < 3; fracDigits++ {
		frac *= 10
	}
	v := whole*1000 + frac
	if neg {
		v = -v
	}
	return Item{Type: TypeDecimal, Int: v}, nil
}

// str parses a string: printable ASCII, with only \" and \\ escaped.
func (p *parser) str() (Item, error) {
	p.i++ // '"'
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '\\':
			if p.i+1 == len(p.b) || p.b[p.i+1] != '"' && p.b[p.i+1] != '\\' {
				return Item{}, ErrSyntax
			}
			escaped = true
			p.i += 2
			continue
		case c == '"':
			it := Item{Type: TypeString, Raw: p.b[start:p.i], Escaped: escaped}
			p.i++
			return it, nil
		case c < 0x20 || c > 0x7e:
			return Item{}, ErrSyntax
		}
		p.i++
	}
	return Item{}, ErrSyntax // no closing quote
}

func (p *parser) token() (Item, error) {
	start := p.i
	p.i++
	for p.i < len(p.b) {
		c := p.b[p.i]
		if !isTChar(c) && c != ':' && c != '/' {
			break
		}
		p.i++
	}
	return Item{Type: TypeToken, Raw: p.b[start:p.i]}, nil
}

// bytes parses ":base64:"; the text is checked, not decoded (CMCD sends
// none).
func (p *parser) bytes() (Item, error) {
	p.i++ // ':'
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == ':':
			it := Item{Type: TypeBytes, Raw: p.b[start:p.i]}
			p.i++
			return it, nil
		case isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=':
		default:
			return Item{}, ErrSyntax
		}
		p.i++
	}
	return Item{}, ErrSyntax
}

func (p *parser) boolean() (Item, error) {
	if p.i+1 >= len(p.b) {
		return Item{}, ErrSyntax
	}
	switch p.b[p.i+1] {
	case '0', '1':
		v := int64(p.b[p.i+1] - '0')
		p.i += 2
		return Item{Type: TypeBoolean, Int: v}, nil
	}
	return Item{}, ErrSyntax
}

// Unquote appends the value of string s, its escapes removed, to dst.
func (s *Item) Unquote(dst []byte) []byte {
	if !s.Escaped {
		return append(dst, s.Raw...)
	}
	for i := 0; i < len(s.Raw); i++ {
		if s.Raw[i] == '\\' {
			i++
		}
		dst = append(dst, s.Raw[i])
	}
	return dst
}
