#!/usr/bin/env bash
# Generates irisx's default prompts into OUTDIR: 16 kHz mono 16-bit WAVs
# spoken by espeak-ng (voice en-us) and converted by sox. The media library
# resamples them to each call's rate (8 kHz for G.711, 16 kHz for G.722).
#
# Deterministic: the same espeak-ng and sox give byte-identical files (sox
# runs without dither and in repeatable mode). Writes OUTDIR/.stamp last, so
# an interrupted run is redone.
#
# usage: make-prompts.sh OUTDIR
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
voice=en-us
rate=16000

for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool is needed (scripts/install-deps.sh installs it)" >&2
		exit 1
	}
done

# name|text — the name is the path under OUTDIR without .wav. The written
# text is what is heard: "Iris X" makes espeak-ng say the product's name.
prompts=(
	"welcome|Welcome to Iris X."
	"goodbye|Goodbye."
	"invalid|That is not a valid entry."
	"please_wait|Please wait."
	"enter_digits|Please enter your selection."
	"echo|You are now in the echo test. Speak, and you will hear yourself."
	"hold|Please hold. Your call is important to us."
	"transfer|Please hold while your call is transferred."
	"unavailable|The person you are calling is not available."
	"busy|The line is busy. Please try again later."
	"error|Sorry, an error has occurred."
	"thank_you|Thank you."
	"timeout|We did not receive your entry."
	"ivr/demo_long|Welcome to the Iris X demo menu. Press 1 for an echo test, 2 to hear a tone, 3 to hear your number, or 9 to hang up."
	"ivr/demo_short|Press 1, 2, 3, or 9."
	"ivr/invalid|That is not a valid option."
	"digits/0|zero"
	"digits/1|one"
	"digits/2|two"
	"digits/3|three"
	"digits/4|four"
	"digits/5|five"
	"digits/6|six"
	"digits/7|seven"
	"digits/8|eight"
	"digits/9|nine"
	"digits/star|star"
	"digits/pound|pound"
)

mkdir -p "$out/digits" "$out/ivr"
rm -f "$out/.stamp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pids=()
for entry in "${prompts[@]}"; do
	name=${entry%%|*}
	text=${entry#*|}
	raw="$tmp/${name//\//_}.wav"
	# One pipeline per prompt, all at once: each takes a few milliseconds.
	(
		espeak-ng -v "$voice" -w "$raw" -- "$text"
		sox -R -D "$raw" -r "$rate" -c 1 -b 16 -e signed-integer "$out/$name.wav"
	) &
	pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
	wait "$pid" || status=1
done
if [ "$status" -ne 0 ]; then
	echo "$0: generating prompts failed" >&2
	exit 1
fi
touch "$out/.stamp"
