// serve/scheduler.cpp: request queue + batched decode thread (see serve/scheduler.h).
#include "serve/scheduler.h"

#include <algorithm>

#include "core/check.h"
#include "eval/text_stream.h"
#include "serve/stop_filter.h"

namespace gptcu {

// ---- Job ----------------------------------------------------------------------------------

bool Scheduler::Job::next(std::string& piece) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !unread_.empty() || done_; });
  piece.clear();
  piece.swap(unread_);
  return !piece.empty();
}

Scheduler::Result Scheduler::Job::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  return result_;
}

void Scheduler::Job::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
}

void Scheduler::Job::append(const std::string& text) {
  if (text.empty()) return;
  {
    std::lock_guard lock(mu_);
    unread_ += text;
  }
  cv_.notify_all();
}

void Scheduler::Job::end(Result r) {
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    result_ = std::move(r);
    done_ = true;
  }
  cv_.notify_all();
}

bool Scheduler::Job::cancelled() {
  std::lock_guard lock(mu_);
  return cancelled_;
}

// ---- Scheduler ----------------------------------------------------------------------------

Scheduler::Scheduler(GPT& model, const BpeTokenizer& tok, int max_batch, int max_queue)
    : model_(model), tok_(tok), max_batch_(max_batch), max_queue_(max_queue) {
  GPTCU_USER_CHECK(max_batch >= 1, "max batch must be >= 1, got ", max_batch);
  GPTCU_USER_CHECK(max_queue >= 1, "max queue must be >= 1, got ", max_queue);
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

std::shared_ptr<Scheduler::Job> Scheduler::submit(Request request) {
  auto job = std::make_shared<Job>();
  job->request_ = std::move(request);
  {
    std::lock_guard lock(mu_);
    if (stopping_ || (int)queue_.size() >= max_queue_) return nullptr;
    queue_.push_back(job);
  }
  cv_.notify_all();
  return job;
}

void Scheduler::stop() {
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(queue_);
    for (auto& job : running_) job->cancel();
  }
  cv_.notify_all();
  for (auto& job : left) job->end({.finish_reason = "cancelled"});
  if (thread_.joinable()) thread_.join();
}

size_t Scheduler::queued() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t Scheduler::running() {
  std::lock_guard lock(mu_);
  return running_.size();
}

void Scheduler::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      while (!queue_.empty() && (int)batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      running_ = batch;
    }
    decode(batch);
    std::lock_guard lock(mu_);
    running_.clear();
  }
}

void Scheduler::decode(std::vector<std::shared_ptr<Job>>& batch) {
  // Per row: its text so far, cut at its stop strings, and the number of sampled tokens.
  struct RowText {
    TextStream text;
    StopFilter stop;
    Result result;
  };
  std::vector<std::unique_ptr<RowText>> rows;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<SampleOptions> opts;
  for (auto& job : batch) {
    rows.push_back(std::make_unique<RowText>(RowText{TextStream(tok_), StopFilter(job->request_.stop), {}}));
    prompts.push_back(job->request_.prompt);
    opts.push_back(job->request_.opt);
  }
  const auto on_token = [&](size_t i, int32_t id) {
    RowText& row = *rows[i];
    row.result.completion_tokens++;
    const std::vector<int32_t>& stops = opts[i].stop_tokens;
    if (std::find(stops.begin(), stops.end(), id) == stops.end()) {
      const std::string piece = row.stop.push(row.text.push(id));
      row.result.text += piece;
      batch[i]->append(piece);
    }
    return !row.stop.stopped() && !batch[i]->cancelled();
  };
  for (SampleOptions& o : opts) o.on_token = on_token;
  std::vector<Generation> gens;
  try {
    gens = generate_batch(model_, prompts, opts);
  } catch (const std::exception& e) {  // the server validates requests first: a bug or out of memory
    for (auto& job : batch) job->end({.finish_reason = "error", .error = e.what()});
    return;
  }
  for (size_t i = 0; i < batch.size(); i++) {
    RowText& row = *rows[i];
    Result& r = row.result;
    if (!row.stop.stopped()) {  // the held-back tail: an incomplete character, a partial stop string
      const std::string tail = row.stop.push(row.text.finish()) + row.stop.finish();
      r.text += tail;
      batch[i]->append(tail);
    }
    r.prompt_tokens = (int)prompts[i].size() - gens[i].prompt_tokens_dropped;
    r.finish_reason = gens[i].stopped || row.stop.stopped() ? "stop" : gens[i].cancelled ? "cancelled" : "length";
    cancelled_ += r.finish_reason == "cancelled";
    batch[i]->end(std::move(r));
  }
}

}  // namespace gptcu
