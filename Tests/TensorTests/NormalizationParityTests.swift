import Foundation
import Testing
import Tensor

/// Batch norm (training, running statistics, evaluation; with and without ReLU), group norm and
/// ReLU against PyTorch (`scripts/fixtures/dense_ops.py`).
@Suite struct NormalizationParityTests {
    @Test(arguments: [false, true], [0, 1])
    func batchNormalization(relu: Bool, border: Int) throws {
        let fixture = try DenseFixture()
        let suffix = relu ? "_relu" : ""
        let input = MapBuffer(try fixture["bn_input"], border: border, extraChannels: border)
        let channels = input.layout.channels
        let weight = try fixture["bn_weight"].scalars, bias = try fixture["bn_bias"].scalars
        var runningMean = try fixture["bn_running_mean_before"].scalars, runningVariance = try fixture["bn_running_var_before"].scalars
        var mean = [Float](repeating: 0, count: channels), inverse = [Float](repeating: 0, count: channels)
        var output = MapBuffer(input.layout)
        let team = WorkerTeam(size: 2)
        BatchNormalization.forwardTraining(input: input.values, input.layout, weight: weight, bias: bias,
                                           runningMean: &runningMean, runningVariance: &runningVariance,
                                           savedMean: &mean, savedInverseDeviation: &inverse,
                                           output: &output.values, output.layout, relu: relu, team: team)
        expectMatches(output.tensor, try fixture["bn\(suffix)_output"], "batch norm\(suffix) forward")
        expectMatches(Tensor(shape: [channels], scalars: runningMean), try fixture["bn_running_mean_after"], "running mean")
        expectMatches(Tensor(shape: [channels], scalars: runningVariance), try fixture["bn_running_var_after"], "running variance")

        let upstream = MapBuffer(try fixture["bn\(suffix)_upstream"], border: border)
        var inputGradient = MapBuffer(input.layout)
        var weightGradient = [Float](repeating: 0, count: channels), biasGradient = [Float](repeating: 0, count: channels)
        BatchNormalization.backward(outputGradient: upstream.values, upstream.layout, input: input.values, input.layout,
                                    savedMean: mean, savedInverseDeviation: inverse, weight: weight, bias: bias, relu: relu,
                                    inputGradient: &inputGradient.values, inputGradient.layout,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient, team: team)
        expectMatches(inputGradient.tensor, try fixture["bn\(suffix)_input_grad"], "batch norm\(suffix) input gradient")
        expectMatches(Tensor(shape: [channels], scalars: weightGradient), try fixture["bn\(suffix)_weight_grad"], "γ gradient")
        expectMatches(Tensor(shape: [channels], scalars: biasGradient), try fixture["bn\(suffix)_bias_grad"], "β gradient")
        #expect(inputGradient.bordersAreUntouched(extraValue: 0) && output.bordersAreUntouched(extraValue: 0))

        // Evaluation mode with the statistics from before the step.
        var evaluated = MapBuffer(input.layout)
        BatchNormalization.forwardInference(input: input.values, input.layout, weight: weight, bias: bias,
                                            runningMean: try fixture["bn_running_mean_before"].scalars,
                                            runningVariance: try fixture["bn_running_var_before"].scalars,
                                            output: &evaluated.values, evaluated.layout, team: team)
        expectMatches(evaluated.tensor, try fixture["bn_eval_output"], "batch norm evaluation")
    }

    @Test func batchNormalizationNeedsMoreThanOneValuePerChannel() {
        // PyTorch raises for one value per channel in training; the precondition is documented,
        // so only the inputs it accepts are exercised here: two values give variance > 0.
        let layout = FeatureMapLayout(batch: 2, height: 1, width: 1, channels: 1)
        var output = [Float](repeating: 0, count: 2), mean: Float = 0, inverse: Float = 0
        BatchNormalization.forwardTraining(input: [1, 3], layout, weight: [1], bias: [0], runningMean: nil, runningVariance: nil,
                                           savedMean: &mean, savedInverseDeviation: &inverse, output: &output, layout)
        #expect(mean == 2)
        #expect(abs(output[0] + 1) < 1e-5 && abs(output[1] - 1) < 1e-5)
    }

    @Test func groupNormalization() throws {
        let fixture = try DenseFixture()
        let input = MapBuffer(try fixture["gn_input"], border: 1)
        let channels = input.layout.channels, groups = 4
        let weight = try fixture["gn_weight"].scalars, bias = try fixture["gn_bias"].scalars
        var mean = [Float](repeating: 0, count: 2 * groups), inverse = [Float](repeating: 0, count: 2 * groups)
        var output = MapBuffer(input.layout)
        GroupNormalization.forward(input: input.values, input.layout, groups: groups, weight: weight, bias: bias,
                                   savedMean: &mean, savedInverseDeviation: &inverse, output: &output.values, output.layout)
        expectMatches(output.tensor, try fixture["gn_output"], "group norm forward")
        let upstream = MapBuffer(try fixture["gn_upstream"])
        var inputGradient = MapBuffer(try fixture["gn_upstream"])
        var weightGradient = [Float](repeating: 0, count: channels), biasGradient = [Float](repeating: 0, count: channels)
        GroupNormalization.backward(outputGradient: upstream.values, upstream.layout, input: input.values, input.layout,
                                    groups: groups, savedMean: mean, savedInverseDeviation: inverse, weight: weight,
                                    inputGradient: &inputGradient.values, inputGradient.layout,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient)
        expectMatches(inputGradient.tensor, try fixture["gn_input_grad"], "group norm input gradient")
        expectMatches(Tensor(shape: [channels], scalars: weightGradient), try fixture["gn_weight_grad"], "group norm γ gradient")
        expectMatches(Tensor(shape: [channels], scalars: biasGradient), try fixture["gn_bias_grad"], "group norm β gradient")
    }

    @Test func rectifiedLinearUnit() throws {
        let fixture = try DenseFixture()
        let input = MapBuffer(try fixture["relu_input"], border: 1, extraChannels: 2)
        var output = MapBuffer(input.layout)
        ReLU.forward(input: input.values, input.layout, output: &output.values, output.layout)
        #expect(output.tensor.scalars == (try fixture["relu_output"]).scalars)
        let upstream = MapBuffer(try fixture["relu_upstream"])
        var inputGradient = MapBuffer(upstream.layout)
        ReLU.backward(outputGradient: upstream.values, upstream.layout, output: output.values, output.layout,
                      inputGradient: &inputGradient.values, inputGradient.layout)
        #expect(inputGradient.tensor.scalars == (try fixture["relu_input_grad"]).scalars)
    }
}
