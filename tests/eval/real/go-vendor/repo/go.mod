module github.com/acme/metricsd

go 1.19
