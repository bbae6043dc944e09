package qoe

import "strconv"

// AppendDict appends d serialised as RFC 8941 4.1.2 does (members joined
// by ", "), so that what was parsed can be written back and parsed again
// to the same members: the fuzz target's check, and a way to log a line
// in a canonical form.
func (d *Dict) AppendDict(dst []byte) []byte {
	for i := 0; i < d.n; i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		m := &d.members[i]
		dst = append(dst, m.Key...)
		switch {
		case m.IsList:
			dst = append(dst, '=', '(')
			for j := 0; j < int(m.list.n); j++ {
				if j > 0 {
					dst = append(dst, ' ')
				}
				it := &d.items[int(m.list.first)+j]
				dst = it.Item.appendBare(dst)
				dst = d.appendParams(dst, it.params)
			}
			dst = append(dst, ')')
		case m.Item.Type == TypeBoolean && m.Item.Int == 1:
			// A bare key is true.
		default:
			dst = append(dst, '=')
			dst = m.Item.appendBare(dst)
		}
		dst = d.appendParams(dst, m.params)
	}
	return dst
}

func (d *Dict) appendParams(dst []byte, s span) []byte {
	for _, p := range d.paramSlice(s) {
		dst = append(dst, ';')
		dst = append(dst, p.Key...)
		if p.Value.Type != TypeBoolean || p.Value.Int != 1 {
			dst = append(dst, '=')
			dst = p.Value.appendBare(dst)
		}
	}
	return dst
}

func (it *Item) appendBare(dst []byte) []byte {
	switch it.Type {
	case TypeInteger:
		return strconv.AppendInt(dst, it.Int, 10)
	case TypeDecimal:
		v := it.Int
		if v < 0 {
			dst = append(dst, '-')
			v = -v
		}
		dst = strconv.AppendInt(dst, v/1000, 10)
		dst = append(dst, '.')
		frac := v % 1000
		// At least one fractional digit, no trailing zeros past it.
		digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		n := 3
		for n > 1 && digits[n-1] == '0' {
			n--
		}
		return append(dst, digits[:n]...)
	case TypeString:
		dst = append(dst, '"')
		dst = append(dst, it.Raw...) // already in its escaped form
		return append(dst, '"')
	case TypeToken:
		return append(dst, it.Raw...)
	case TypeBytes:
		dst = append(dst, ':')
		dst = append(dst, it.Raw...)
		return append(dst, ':')
	case TypeBoolean:
		return append(dst, '?', byte('0'+it.Int))
	}
	return dst
}

// Equal reports whether d and o hold the same members with the same
// values and parameters, in the same order.
func (d *Dict) Equal(o *Dict) bool {
	if d.n != o.n {
		return false
	}
	for i := 0; i < d.n; i++ {
		a, b := &d.members[i], &o.members[i]
		if string(a.Key) != string(b.Key) || a.IsList != b.IsList || a.list.n != b.list.n ||
			!paramsEqual(d.Params(a), o.Params(b)) {
			return false
		}
		if !a.IsList && !a.Item.equal(&b.Item) {
			return false
		}
		for j := 0; a.IsList && j < int(a.list.n); j++ {
			if !d.ListItem(a, j).equal(o.ListItem(b, j)) || !paramsEqual(d.ItemParams(a, j), o.ItemParams(b, j)) {
				return false
			}
		}
	}
	return true
}

func (it *Item) equal(o *Item) bool {
	return it.Type == o.Type && it.Int == o.Int && string(it.Raw) == string(o.Raw)
}

func paramsEqual(a, b []Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i].Key) != string(b[i].Key) || !a[i].Value.equal(&b[i].Value) {
			return false
		}
	}
	return true
}
