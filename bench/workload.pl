# Allocation-heavy perl workload for bench/run: hashes of arrays, string
# building, split/join, regex substitution, sorting.
# Usage: perl workload.pl SCALE; prints a digest of what it computed.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $scale = shift // 10;
my $ctx = Digest::MD5->new;

for my $rnd (1 .. $scale) {
    my %h;
    for my $i (1 .. 40000) {
        my $k = "key" . ($i * 7919 % 10007);
        push @{ $h{$k} }, [ $i, "v$i-$rnd", { a => $i % 7, b => "x" x ($i % 40) } ];
    }
    my @keys = sort { scalar(@{ $h{$b} }) <=> scalar(@{ $h{$a} }) or $a cmp $b } keys %h;
    $ctx->add(join(",", @keys[0 .. 49]));
    my $text = join("\n", map { join(" ", $_, map { $_->[1] } @{ $h{$_} }) } @keys);
    (my $t2 = $text) =~ s/v(\d+)-/w$1_/g;
    my %count;
    $count{$_}++ for split /\s+/, $t2;
    my @top = (sort { $count{$b} <=> $count{$a} or $a cmp $b } keys %count)[0 .. 19];
    $ctx->add("@top", length($t2));
    my %live;
    for my $i (1 .. 80000) {
        my $k = ($i * 2654435761) % 5003;
        if (exists $live{$k}) { delete $live{$k} } else { $live{$k} = [ ($k) x ($k % 16), "$k" ] }
    }
    my $n = 0;
    $n += @$_ for values %live;
    $ctx->add($n);
}
print $ctx->hexdigest, "\n";
