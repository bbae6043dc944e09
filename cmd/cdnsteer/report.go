package main

import (
	"fmt"
	"io"
)

func report(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cdnsteer report: not built yet")
	return 1
}
