package geo

import "testing"

func TestAssignedCountries(t *testing.T) {
	n := 0
	for i := range numCountryIndexes {
		code := countryCode(i)
		if countryIndex(code) != i {
			t.Fatalf("countryIndex(countryCode(%d)) = %d", i, countryIndex(code))
		}
		if isAssignedCountry(code) {
			n++
		}
	}
	// ISO 3166-1 has 249 officially assigned alpha-2 codes.
	if n != 249 {
		t.Errorf("%d assigned codes, want 249", n)
	}
	for _, code := range []string{"KR", "JP", "US", "DE", "AS", "NA", "SA", "AQ", "SS", "BQ", "ZW", "AD"} {
		if !isAssignedCountry(code) {
			t.Errorf("isAssignedCountry(%q) = false", code)
		}
	}
	// Reserved or user-assigned codes are not assigned: UK, EU, XK, AN
	// (Netherlands Antilles, withdrawn), and malformed input.
	for _, code := range []string{"UK", "EU", "XK", "AN", "ZZ", "kr", "K", "KRR", "", "D ", " D"} {
		if isAssignedCountry(code) {
			t.Errorf("isAssignedCountry(%q) = true", code)
		}
	}
}

func TestContinentIndex(t *testing.T) {
	for i, code := range []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"} {
		if got := continentIndex(code); got != i {
			t.Errorf("continentIndex(%q) = %d, want %d", code, got, i)
		}
		if continentName(i) == "unknown" {
			t.Errorf("continentName(%d) is unknown", i)
		}
	}
	for _, code := range []string{"KR", "F ", "FA", "", "eu", "EUR", "N"} {
		if got := continentIndex(code); got != -1 {
			t.Errorf("continentIndex(%q) = %d, want -1", code, got)
		}
	}
}
