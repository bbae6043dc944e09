package keyerr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestSplit: key errors come out of nested joins in order, with the keys
// they concern; other errors are kept apart rather than lost.
func TestSplit(t *testing.T) {
	other := errors.New("not about a key")
	err := errors.Join(
		New("slip", "must be from 0 to %d", 10),
		errors.Join(&Error{Key: "timeout", Related: []string{"interval"}, Msg: "too long"}, other),
		fmt.Errorf("wrapped: %w", New("url", "empty")),
	)
	keys, others := Split(err)
	var got []string
	for _, k := range keys {
		got = append(got, strings.Join(k.Keys(), "+")+"="+k.Error())
	}
	want := "slip=slip: must be from 0 to 10,timeout+interval=timeout: too long,url=url: empty"
	if strings.Join(got, ",") != want {
		t.Errorf("keys %q, want %q", strings.Join(got, ","), want)
	}
	if len(others) != 1 || others[0] != other {
		t.Errorf("others %v", others)
	}
	if k, o := Split(nil); k != nil || o != nil {
		t.Errorf("Split(nil) = %v, %v", k, o)
	}
}
