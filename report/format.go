package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Int formats a count with thousands separators: 1,800,000.
func Int(v float64) string { return Fixed(v, 0) }

// Fixed formats v with prec decimals and thousands separators.
func Fixed(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	if sign != "" && strings.Trim(b.String(), "0.,") != "" {
		return sign + b.String()
	}
	return b.String()
}

// Compact formats a number short for axis ticks: 1.8M, 250k, 4.5, 0.25.
func Compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + "G"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e4:
		return trim(v/1e3) + "k"
	default:
		return trim(v)
	}
}

func trim(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// Percent formats a ratio as a percentage with one decimal: 97.3 %.
func Percent(ratio float64) string {
	return strconv.FormatFloat(100*ratio, 'f', 1, 64) + " %"
}

// Gbps formats a rate in Gbit/s with one decimal.
func Gbps(v float64) string { return Fixed(v, 1) + " Gbit/s" }

// Minutes formats a number of minutes with one decimal.
func Minutes(m float64) string {
	return strconv.FormatFloat(m, 'f', 1, 64) + " min"
}

// Duration formats a duration for people: 9 s, 1 min 39 s, 2 h 05 min.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

// Clock formats a time of day in UTC.
func Clock(t time.Time) string {
	return t.UTC().Format("15:04:05")
}
