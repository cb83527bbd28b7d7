#!/bin/bash
# the repeated protocol on digits (29 610 slots) in chunks of 8 000; Ctrl-C to the whole
# process group (as a terminal sends it) while chunk 2 runs, then --resume
cd /work/runs/r24; export PYTHONPATH=/work/runs/r24 PYTHONUNBUFFERED=1
OUT=out/plasticity_repeated_digits_chunked
setsid python -m koo_spiking.cli plasticity --protocol repeated --data digits \
  --seed 0 --checkpoint-every 8000 --out $OUT > out/demo_part1.log 2>&1 &
PID=$!
while [ ! -f $OUT/checkpoint/checkpoint.npz ]; do sleep 1; done
sleep 30
echo "Ctrl-C (SIGINT to the process group) at $(date +%T)"; kill -INT -$PID; wait $PID; echo "exit status $?"
grep -a "chunk\|interrupted" out/demo_part1.log
python -c "import numpy as np; d=np.load('$OUT/checkpoint/checkpoint.npz'); print('checkpoint: done', int(d['__done']), 'chunks', int(d['__chunks']))"
echo "resume at $(date +%T)"
python -m koo_spiking.cli plasticity --resume $OUT > out/demo_part2.log 2>&1; echo "exit status $?"
grep -a "resuming\|chunk" out/demo_part2.log; tail -6 out/demo_part2.log
echo "== done $(date +%T)"
