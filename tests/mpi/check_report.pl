#!/usr/bin/env perl
# Checks one `mpirun ... taskpipe train --json` report against what the layout must move and report.
# Usage: check_report.pl <mpi.json> <threads.json>
#   Bytes per step, every rank, computed from the report's own config (not from the counters): the replicas exchange
#   each stage's gradients once (an all-gather sends a rank's block to each of the D-1 others), wte's once per rank
#   that holds it, plus the head's copy where the head sits on another rank than the embedding; the pipeline sends
#   one activation (forward) and one activation gradient (backward) per micro-batch across each boundary between
#   stages on different ranks; the tied embedding's gradient crosses once each way where first and last stage differ.
#   Per-worker figures: D x P workers with the threads' report's keys, busy time and peak memory in every category.
# Prints one line per failed check; exits with their count.
use strict;
use warnings;
use JSON::PP;

sub slurp { local $/; open my $f, '<', $_[0] or die "$_[0]: $!\n"; my $t = <$f>; decode_json($t) }
my ($mpi, $threads) = (slurp($ARGV[0]), slurp($ARGV[1]));
my $failures = 0;
sub fail { print "FAIL: $_[0]\n"; $failures++ }

my ($d, $p, $m) = ($mpi->{replicas}, $mpi->{ranks}, $mpi->{microbatches});
my $c = $mpi->{config};
my $wte = 4 * $c->{vocab} * $c->{embd};
my $activation = 4 * ($mpi->{batch} / ($d * $m)) * $mpi->{seq} * $c->{embd};
my @stage_rank = @{ $mpi->{partition}{stage_rank} };
my @bounds = @{ $mpi->{partition}{bounds} };
my $split = $stage_rank[0] != $stage_rank[-1];
my @workers = @{ $mpi->{workers} };
fail("workers: " . scalar(@workers) . ", expected $d x $p") unless @workers == $d * $p;

# A replica's gradients, all its ranks together: the whole model's, plus the head's copy of wte where it sits apart.
my $gradients = 4 * $mpi->{parameter_count} + ($split ? $wte : 0);
my $boundaries = grep { $stage_rank[$_] != $stage_rank[$_ + 1] } 0 .. $#stage_rank - 1;
for my $replica (0 .. $d - 1) {
  my ($to_replicas, $pipeline, $tied) = (0, 0, 0);
  for my $r (0 .. $p - 1) {
    my $b = $workers[$replica * $p + $r]{bytes_per_step};
    $to_replicas += $b->{to_other_replicas};
    $pipeline += $b->{to_pipeline_neighbours};
    $tied += $b->{tied_embedding_gradient};
    fail("replica $replica rank $r: sent $b->{to_other_replicas} B to the other replicas, its gradients are "
        . "$b->{own_gradients} B x " . ($d - 1)) if $b->{to_other_replicas} != $b->{own_gradients} * ($d - 1);
  }
  my %expected = (
    "to the other replicas" => [$to_replicas, $gradients * ($d - 1)],
    "to pipeline neighbours" => [$pipeline, 2 * $boundaries * $m * $activation],
    "of tied-embedding gradient" => [$tied, $split ? 2 * $wte : 0]);
  for my $what (sort keys %expected) {
    my ($sent, $want) = @{ $expected{$what} };
    fail("replica $replica sent $sent B per step $what, more than the $want B the step needs") if $sent > $want;
    fail("replica $replica counts $sent B per step $what, fewer than the $want B its messages carry")
      if $sent < $want;
  }
}

my @keys = sort grep { $_ ne 'bytes_per_step' } keys %{ $threads->{workers}[0] };
my @categories = sort keys %{ $threads->{workers}[0]{peak_bytes} };
for my $i (0 .. $#workers) {
  my $w = $workers[$i];
  my @have = sort grep { $_ ne 'bytes_per_step' } keys %$w;
  fail("worker $i: keys @have, the threads' report has @keys") unless "@have" eq "@keys";
  fail("worker $i: replica $w->{replica} rank $w->{rank}, expected " . int($i / $p) . " and " . $i % $p)
    unless $w->{replica} == int($i / $p) && $w->{rank} == $i % $p;
  fail("worker $i: busy $w->{busy_s} s") unless $w->{busy_s} > 0;
  fail("worker $i: idle $w->{idle_s} s") unless $w->{idle_s} >= 0;
  my @cats = sort keys %{ $w->{peak_bytes} };
  fail("worker $i: peak categories @cats, the threads' report has @categories") unless "@cats" eq "@categories";
  for my $k (qw(parameters gradients optimizer activations)) {
    fail("worker $i: peak $k $w->{peak_bytes}{$k} B") unless ($w->{peak_bytes}{$k} // 0) > 0;
  }
}
# The same layout on threads holds the same parameters, gradients and optimizer state per worker.
for my $i (0 .. $#workers) {
  for my $k (qw(parameters gradients optimizer)) {
    my ($a, $b) = ($workers[$i]{peak_bytes}{$k}, $threads->{workers}[$i]{peak_bytes}{$k});
    fail("worker $i: peak $k $a B under MPI, $b B on threads") unless $a == $b;
  }
}
print "$ARGV[0]: " . ($failures ? "$failures failed checks" : "bytes per step as expected, $d x $p workers reported")
  . "\n";
exit $failures;
