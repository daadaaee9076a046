#!/usr/bin/env ruby
# oracle.rb - checks golden cases against Shopify's Ruby Liquid (a developer's tool: CI does
# not need Ruby). Usage: TZ=UTC ruby tests/cases/template/oracle.rb tests/cases/template/*.case
# Needs the liquid gem (Debian: ruby-liquid). Prints each case whose output differs from
# Liquid's; cases with an "oracle-skip REASON" option are documented differences, and for
# "!error" cases only the fact that Liquid fails too is checked.
require "json"
require "liquid"

# Shopify runs Liquid with ActiveSupport's blank?; the bare gem has none.
class NilClass; def blank?; true; end; end
class FalseClass; def blank?; true; end; end
class TrueClass; def blank?; false; end; end
class String; def blank?; strip.empty?; end; end
class Array; def blank?; empty?; end; end
class Hash; def blank?; empty?; end; end
class Numeric; def blank?; false; end; end

class CaseFS
  attr_accessor :snippets
  def read_template_file(name)
    @snippets.fetch(name) { raise Liquid::FileSystemError, "no snippet #{name}" }
  end
end

def parse_cases(path)
  cases = []
  cur = nil
  sec = nil
  raw = false
  File.readlines(path).each_with_index do |line, i|
    if line.start_with?("=== ")
      cases << cur if cur
      cur = { name: line[4..].chomp, line: i + 1, "template" => +"", "context" => +"",
              "output" => +"", "options" => +"", snippets: {}, raw: {} }
      sec = "template"
    elsif line.start_with?("--- ")
      h = line[4..].chomp
      raw = h.end_with?("!")
      h = h.chomp("!")
      if h.start_with?("snippet ")
        sec = [:snippet, h[8..]]
        cur[:snippets][h[8..]] = +""
      else
        sec = h
        cur[sec] = +""
      end
      cur[:raw][sec] = raw
    elsif cur && sec
      (sec.is_a?(Array) ? cur[:snippets][sec[1]] : cur[sec]) << line
    end
  end
  cases << cur if cur
  cases.each do |c|
    %w[template context output options].each do |k|
      c[k] = c[k].sub(/\n+\z/, "") unless c[:raw][k]
    end
    c[:snippets].each_key { |k| c[:snippets][k] = c[:snippets][k].sub(/\n+\z/, "") }
  end
  cases
end

fs = CaseFS.new
Liquid::Template.file_system = fs
bad = 0
total = 0
ARGV.each do |path|
  parse_cases(path).each do |c|
    next if c["options"] =~ /^oracle-skip/ || c["template"] =~ /"now"|'now'|"today"|'today'/
    total += 1
    fs.snippets = c[:snippets]
    strict = c["options"].include?("strict")
    ctx = c["context"].empty? ? {} : JSON.parse(c["context"])
    got = begin
      t = Liquid::Template.parse(c["template"], error_mode: :strict)
      t.render!(ctx, strict_variables: strict, strict_filters: strict)
    rescue Liquid::Error, StandardError => e
      "!error #{e.message}"
    end
    want = c["output"]
    if want.start_with?("!error")
      next if got.start_with?("!error")
    elsif got == want
      next
    end
    bad += 1
    puts "#{path}:#{c[:line]}: #{c[:name]}\n  want: #{want.inspect}\n  ruby: #{got.inspect}"
  end
end
puts "#{total - bad} agree, #{bad} differ"
