#!/usr/bin/env perl
# compare_checkpoints.pl A B TOL KEY_BIAS_TOL: every model tensor of safetensors checkpoint A within TOL relative (L2)
# of B's; the key part of each c_attn.bias (columns [d, 2d)), whose exact gradient is zero and whose float gradient is
# rounding noise that AdamW turns into lr-sized steps, within KEY_BIAS_TOL absolute instead. Prints the worst ratio;
# exits 1 when a tensor is missing or out of tolerance.
use strict;
use warnings;

sub read_checkpoint {
  my ($path) = @_;
  open(my $f, '<', $path) or die "cannot open $path\n";
  binmode $f;
  read($f, my $len, 8) == 8 or die "$path: truncated\n";
  my $n = unpack('Q<', $len);
  read($f, my $header, $n) == $n or die "$path: truncated header\n";
  local $/;
  my $data = <$f>;
  my %tensors;
  while ($header =~ /"([^"]+)":\{"data_offsets":\[(\d+),(\d+)\]/g) {
    next if $1 =~ /^optimizer\./;
    $tensors{$1} = [unpack('f<*', substr($data, $2, $3 - $2))];
  }
  my ($embd) = $header =~ /"n_embd":"(\d+)"/ or die "$path: no n_embd\n";
  return (\%tensors, $embd);
}

my ($a_path, $b_path, $tol, $key_tol) = @ARGV;
my ($a, $embd) = read_checkpoint($a_path);
my ($b) = read_checkpoint($b_path);
my ($worst, $worst_name, $bad) = (0, '', 0);
for my $name (sort keys %$b) {
  my $x = $a->{$name} or do { print "missing $name\n"; $bad = 1; next };
  my $y = $b->{$name};
  if (@$x != @$y) { print "$name: ", scalar(@$x), " values vs ", scalar(@$y), "\n"; $bad = 1; next }
  my ($diff, $norm) = (0, 0);
  for my $i (0 .. $#$y) {
    my $e = $x->[$i] - $y->[$i];
    if ($name =~ /c_attn\.bias$/ && $i >= $embd && $i < 2 * $embd) {
      if (abs($e) > $key_tol) { print "$name\[$i\]: differs by $e\n"; $bad = 1 }
      next;
    }
    $diff += $e * $e;
    $norm += $y->[$i] * $y->[$i];
  }
  my $ratio = $norm > 0 ? sqrt($diff) / sqrt($norm) : sqrt($diff);
  ($worst, $worst_name) = ($ratio, $name) if $ratio > $worst;
  if ($ratio > $tol) { print "$name: relative difference $ratio > $tol\n"; $bad = 1 }
}
print "worst relative difference $worst ($worst_name)\n";
exit $bad;
