module golden-images-engine-wrap

go 1.26.6

require github.com/pulumi/pulumi/pkg/v3 v3.274.1

// pkg/v3's own go.mod carries this replace; replaces in a dependency are ignored, so the wrapper repeats it.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
