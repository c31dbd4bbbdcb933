# bench/run.sh draws these from update.dat and memory.dat, in bench/results.
set terminal svg size 800,420 font "sans,11" noenhanced
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics

set output "update.svg"
set title "Publishing one hint (median ns per update, log scale)"
set logscale y
set ylabel "ns"
plot "update.dat" using 0:2:xtic(1) with boxes notitle, \
     "" using 0:2:(sprintf("%.3g", $2)) with labels offset 0,0.8 notitle

set output "memory.svg"
set title "Resident bytes per registered thread (8 bytes of hints used)"
unset logscale y
set ylabel "bytes"
set style data histograms
set style histogram clustered gap 1
plot "memory.dat" using 2:xtic(sprintf("%d threads", $1)) title "tld", \
     "" using 3 title "upstream header", \
     "" using 4 title "one page"
