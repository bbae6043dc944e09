package report

// The decision log names who set each override, wrote each note,
// activated each plan and opened each escalation (the admin token's name,
// "cdnsteer" for what the engine did on its own): after an event, who
// drained a CDN matters as much as when.

// byCell is who, for a table's "by" column: a dash for a line written
// before the log named anyone.
func byCell(who string) string {
	if who == "" {
		return "—"
	}
	return who
}

// byLabel is who, appended to a chart's label; nothing without a name.
func byLabel(who string) string {
	if who == "" {
		return ""
	}
	return " — by " + who
}
