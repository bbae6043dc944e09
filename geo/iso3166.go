package geo

import "strings"

// assignedCountries is every officially assigned ISO 3166-1 alpha-2 code,
// sorted, three bytes apart. It is a constant rather than a map so that the
// package holds no mutable state; it is only consulted while compiling a
// Table, where a linear scan is cheap enough.
const assignedCountries = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"YE YT " +
	"ZA ZM ZW "

// continentCodes are the seven continent codes used by MaxMind databases;
// a code's position (divided by three) is its continent index.
const continentCodes = "AF AN AS EU NA OC SA "

const (
	// numCountryIndexes covers every pair of uppercase letters, assigned or
	// not, so that codes a database uses outside ISO 3166-1 (such as XK for
	// Kosovo) still get an index and can fall through to their continent.
	numCountryIndexes = 26 * 26
	numContinents     = len(continentCodes) / 3
)

// isAssignedCountry reports whether code is an officially assigned
// ISO 3166-1 alpha-2 code.
func isAssignedCountry(code string) bool {
	// Every entry is letter, letter, space, so a match is always aligned.
	return countryIndex(code) >= 0 && strings.Contains(assignedCountries, code+" ")
}

// countryIndex maps two uppercase ASCII letters to 0..675, or -1 for
// anything else.
func countryIndex(code string) int {
	if len(code) != 2 || !isUpperLetter(code[0]) || !isUpperLetter(code[1]) {
		return -1
	}
	return int(code[0]-'A')*26 + int(code[1]-'A')
}

// continentIndex maps a continent code to 0..numContinents-1, or -1.
func continentIndex(code string) int {
	if len(code) != 2 || !isUpperLetter(code[0]) || !isUpperLetter(code[1]) {
		return -1
	}
	i := strings.Index(continentCodes, code+" ")
	if i < 0 {
		return -1
	}
	return i / 3
}

// countryCode is the inverse of countryIndex.
func countryCode(i int) string {
	return string([]byte{'A' + byte(i/26), 'A' + byte(i%26)})
}

func isUpperLetter(c byte) bool { return c >= 'A' && c <= 'Z' }

// continentName spells out a continent index in messages, because the
// two-letter continent codes are easily mistaken for country codes.
func continentName(i int) string {
	switch i {
	case 0:
		return "Africa"
	case 1:
		return "Antarctica"
	case 2:
		return "Asia"
	case 3:
		return "Europe"
	case 4:
		return "North America"
	case 5:
		return "Oceania"
	case 6:
		return "South America"
	}
	return "unknown"
}

// Countries returns every officially assigned ISO 3166-1 alpha-2 code, for
// tools that build data (test databases, benchmarks) and for documentation.
func Countries() []string { return strings.Fields(assignedCountries) }

// Continents returns the continent codes MaxMind databases use.
func Continents() []string { return strings.Fields(continentCodes) }
