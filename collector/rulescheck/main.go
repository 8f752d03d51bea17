// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

// rulescheck checks Prometheus rule files as Prometheus loads them (promtool check rules): the
// format, every expression parsed by PromQL's parser, every template. It prints the metric names
// the expressions select, one per line, for the caller to compare with what the gateway exports.
//
//	go run ./collector/rulescheck collector-config/alerts/otel-audit.rules.yaml
package main

import (
	"fmt"
	"log/slog"
	"os"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rulescheck <rules.yaml>...")
		os.Exit(2)
	}
	names := map[string]bool{}
	failed := false
	promql := parser.NewParser(parser.Options{})
	for _, path := range os.Args[1:] {
		groups, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
		for _, err := range errs {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
		}
		if groups == nil {
			continue
		}
		for _, group := range groups.Groups {
			for _, rule := range group.Rules {
				expr, err := promql.ParseExpr(rule.Expr)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %s: %v\n", path, rule.Alert, err)
					failed = true
					continue
				}
				for _, selector := range parser.ExtractSelectors(expr) {
					for _, matcher := range selector {
						if matcher.Name == labels.MetricName && matcher.Type == labels.MatchEqual {
							names[matcher.Value] = true
						}
					}
				}
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		fmt.Println(name)
	}
	if failed {
		os.Exit(1)
	}
}
